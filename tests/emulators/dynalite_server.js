#!/usr/bin/env node
// Launcher for dynalite that, unlike dynalite's own command line, honours port 0 (a free port chosen by the OS).
//
// Usage: node dynalite_server.js [--port N] [--createTableMs MS] [--deleteTableMs MS] [--updateTableMs MS]
//                                [--path DIR] [--maxItemSizeKb KB]
//   The option names are dynalite's own; the port defaults to $DYNALITE_PORT, then 0.
//
// Binds to 127.0.0.1 only. Once listening it prints one line to stdout:
//   DYNALITE_URL=http://127.0.0.1:<port>
// and runs until SIGTERM / SIGINT.
"use strict";

const path = require("path");
const dynalite = require(path.join(__dirname, "node_modules", "dynalite"));

const NUMERIC = new Set(["port", "createTableMs", "deleteTableMs", "updateTableMs", "maxItemSizeKb"]);
const STRING = new Set(["path"]);

function parseArgs(argv) {
  const options = {};
  for (let i = 0; i < argv.length; i++) {
    const match = /^--([A-Za-z]+)(?:=(.*))?$/.exec(argv[i]);
    const name = match && match[1];
    if (!name || (!NUMERIC.has(name) && !STRING.has(name))) {
      process.stderr.write(`dynalite_server.js: unknown argument ${JSON.stringify(argv[i])}\n`);
      process.exit(2);
    }
    const value = match[2] !== undefined ? match[2] : argv[++i];
    if (value === undefined || (NUMERIC.has(name) && !/^\d+$/.test(value))) {
      process.stderr.write(`dynalite_server.js: --${name} needs a ${NUMERIC.has(name) ? "number" : "value"}\n`);
      process.exit(2);
    }
    options[name] = NUMERIC.has(name) ? Number(value) : value;
  }
  if (options.port === undefined) {
    const fromEnv = process.env.DYNALITE_PORT;
    options.port = fromEnv && /^\d+$/.test(fromEnv) ? Number(fromEnv) : 0;
  }
  return options;
}

const options = parseArgs(process.argv.slice(2));
const { port, ...dynaliteOptions } = options;
const server = dynalite(dynaliteOptions);
server.on("error", (error) => {
  process.stderr.write(`dynalite_server.js: ${error && error.stack ? error.stack : error}\n`);
  process.exit(1);
});
server.listen(port, "127.0.0.1", () => {
  process.stdout.write(`DYNALITE_URL=http://127.0.0.1:${server.address().port}\n`);
});

const shutdown = () => {
  server.close(() => process.exit(0));
  server.closeAllConnections?.();
  setTimeout(() => process.exit(0), 1000).unref();
};
process.on("SIGTERM", shutdown);
process.on("SIGINT", shutdown);
