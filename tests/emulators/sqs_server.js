#!/usr/bin/env node
// Launcher for local-aws-sqs, which ships as a library without a command line.
//
// Usage: node sqs_server.js [PORT] [--no-lazy] [--no-lifecycle]
//   PORT defaults to $SQS_PORT, then 0 (the OS picks a free port).
//   --no-lazy       new queues are usable at once (default: unusable for ~1.15 s, like AWS)
//   --no-lifecycle  a deleted queue name can be re-created at once (default: QueueDeletedRecently for 60 s)
//
// Binds to 127.0.0.1 only. Once listening it prints one line to stdout:
//   SQS_URL=http://127.0.0.1:<port>
// and runs until SIGTERM / SIGINT.
"use strict";

const path = require("path");
const { createSqsServer } = require(path.join(__dirname, "node_modules", "local-aws-sqs"));

function parseArgs(argv) {
  const options = { port: undefined, lazy: true, lifecycle: true };
  for (const arg of argv) {
    if (arg === "--no-lazy") options.lazy = false;
    else if (arg === "--no-lifecycle") options.lifecycle = false;
    else if (/^\d+$/.test(arg)) options.port = Number(arg);
    else {
      process.stderr.write(`sqs_server.js: unknown argument ${JSON.stringify(arg)}\n`);
      process.exit(2);
    }
  }
  if (options.port === undefined) {
    const fromEnv = process.env.SQS_PORT;
    options.port = fromEnv && /^\d+$/.test(fromEnv) ? Number(fromEnv) : 0;
  }
  return options;
}

async function main() {
  const options = parseArgs(process.argv.slice(2));
  const server = await createSqsServer({
    port: options.port,
    hostname: "127.0.0.1",
    emulateQueueCreationLifecycle: options.lifecycle,
    emulateLazyQueues: options.lazy,
  });
  const address = server.address();
  if (!address || typeof address !== "object") {
    throw new Error("local-aws-sqs did not report a bound address");
  }
  process.stdout.write(`SQS_URL=http://127.0.0.1:${address.port}\n`);

  const shutdown = () => {
    server.close(() => process.exit(0));
    server.closeAllConnections?.();
    setTimeout(() => process.exit(0), 1000).unref();
  };
  process.on("SIGTERM", shutdown);
  process.on("SIGINT", shutdown);
}

main().catch((error) => {
  process.stderr.write(`sqs_server.js: ${error && error.stack ? error.stack : error}\n`);
  process.exit(1);
});
