"""An order service whose modules build their own boto3 clients, reading endpoints and region from the environment.

- :mod:`order_service.orders`: orders in a DynamoDB table, looked up by customer through a global secondary index
  (the table resource is built when the module is imported);
- :mod:`order_service.invoices`: invoices in a versioned S3 bucket (a client per call);
- :mod:`order_service.dispatch`: orders handed to workers through a FIFO SQS queue; what keeps failing ends up in
  the queue's dead-letter queue (a client per dispatcher, endpoint from ``SQS_ENDPOINT`` when it is set).
"""

from .dispatch import Dispatcher
from .invoices import Invoice, invoice_history, store_invoice
from .orders import Order, OrderStore

__all__ = ["Dispatcher", "Invoice", "Order", "OrderStore", "invoice_history", "store_invoice"]
