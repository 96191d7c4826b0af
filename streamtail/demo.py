"""`streamtail demo`: the whole tool working with no AWS account.

Starts moto's server in this process on a free loopback port, creates a two-shard stream, writes a
steady trickle of realistic order events into it from a background thread, and follows it with the
normal read pipeline (`core.run_read`) until Ctrl-C or `--limit`.
"""

from __future__ import annotations

import logging
import os
import random
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

from streamtail.env import Env
from streamtail.errors import UsageError

DEMO_STREAM = "streamtail-demo-orders"
DEMO_TABLE = "streamtail-demo-carts"
DEMO_REGION = "us-east-1"
_SKUS = [
    ("SKU-1001", "espresso beans 1kg", 24.90),
    ("SKU-1002", "oat milk 1l", 2.49),
    ("SKU-2001", "burr grinder", 129.00),
    ("SKU-2002", "milk jug", 14.50),
    ("SKU-3001", "paper filters x100", 4.20),
]
_CITIES = ["Berlin", "Lisbon", "Tbilisi", "Yerevan", "Belgrade", "Almaty", "Porto"]


@dataclass
class OrderFactory:
    """Realistic order events: created, paid, shipped, per customer."""

    rng: random.Random

    def __post_init__(self) -> None:
        self.counter = 0
        self.open_orders: list[dict[str, Any]] = []

    def next(self) -> tuple[str, bytes]:
        """(partition key, payload) of the next event."""
        if self.open_orders and self.rng.random() < 0.45:
            order = self.open_orders.pop(self.rng.randrange(len(self.open_orders)))
            status = "paid" if order["status"] == "created" else "shipped"
            order = {**order, "status": status}
            if status == "paid":
                self.open_orders.append(order)
        else:
            self.counter += 1
            picked = self.rng.sample(_SKUS, self.rng.randint(1, 3))
            quantities = [self.rng.randint(1, 3) for _ in picked]
            lines: list[dict[str, Any]] = [
                {"sku": sku, "name": name, "qty": qty, "price": price}
                for (sku, name, price), qty in zip(picked, quantities, strict=True)
            ]
            order = {
                "order_id": f"ord-{self.counter:06d}",
                "customer": f"cust-{self.rng.randint(1, 40):03d}",
                "city": self.rng.choice(_CITIES),
                "items": lines,
                "total": round(
                    sum(q * p for (_, _, p), q in zip(picked, quantities, strict=True)), 2
                ),
                "currency": "EUR",
                "status": "created",
            }
            self.open_orders.append(order)
        event = {**order, "at": datetime.now(UTC).isoformat(timespec="milliseconds")}
        return str(order["customer"]), orjson.dumps(event)


def _demo_credentials() -> None:
    # moto accepts any credentials; make sure none of the user's profile settings get in the way.
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
        os.environ.pop(name, None)
    os.environ["AWS_ACCESS_KEY_ID"] = "demo"
    os.environ["AWS_SECRET_ACCESS_KEY"] = "demo"
    os.environ.pop("AWS_SESSION_TOKEN", None)


def _cart_change(table: Any, rng: random.Random, carts: dict[str, int]) -> None:
    """One change to the demo table: a new cart, a quantity change, or a checkout (delete)."""
    cart = f"cart-{rng.randint(1, 12):02d}"
    if cart in carts and rng.random() < 0.25:
        del carts[cart]
        table.delete_item(TableName=DEMO_TABLE, Key={"cart": {"S": cart}})
        return
    carts[cart] = carts.get(cart, 0) + 1
    sku, name, price = rng.choice(_SKUS)
    table.put_item(
        TableName=DEMO_TABLE,
        Item={
            "cart": {"S": cart},
            "customer": {"S": f"cust-{rng.randint(1, 40):03d}"},
            "items": {"N": str(carts[cart])},
            "last_sku": {"S": sku},
            "last_item": {"M": {"name": {"S": name}, "price": {"N": f"{price:.2f}"}}},
            "tags": {"SS": sorted(rng.sample(["gift", "express", "eco", "b2b"], 2))},
        },
    )


def _producer(kinesis: Any, dynamodb: Any, rate: float, stop: threading.Event) -> None:
    rng = random.Random(7)
    factory = OrderFactory(rng)
    carts: dict[str, int] = {}
    while not stop.is_set():
        key, payload = factory.next()
        try:
            kinesis.put_record(StreamName=DEMO_STREAM, PartitionKey=key, Data=payload)
            if rng.random() < 0.5:
                _cart_change(dynamodb, rng, carts)
        except Exception:  # the server is going away with the process
            return
        stop.wait(rng.expovariate(rate))


def _create(kinesis: Any, dynamodb: Any) -> None:
    kinesis.create_stream(StreamName=DEMO_STREAM, ShardCount=2)
    dynamodb.create_table(
        TableName=DEMO_TABLE,
        KeySchema=[{"AttributeName": "cart", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "cart", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )


def run_demo(
    env: Env, *, limit: int | None, output: str | None, rate: float, ddb: bool = False
) -> None:
    try:
        from moto.server import ThreadedMotoServer
    except ImportError as exc:
        raise UsageError(
            "the demo needs moto's server, which is not installed",
            hint="pip install 'streamtail[demo]'",
        ) from exc
    import boto3

    from streamtail.aws import Connection
    from streamtail.core import ReadRequest, run_read

    _demo_credentials()
    # werkzeug logs every request on stderr; the demo's stderr is for streamtail's own lines.
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    kinesis = boto3.client("kinesis", region_name=DEMO_REGION, endpoint_url=endpoint)
    dynamodb = boto3.client("dynamodb", region_name=DEMO_REGION, endpoint_url=endpoint)
    _create(kinesis, dynamodb)
    followed, other = (
        (f"ddb:{DEMO_TABLE}", DEMO_STREAM) if ddb else (DEMO_STREAM, f"ddb:{DEMO_TABLE}")
    )
    env.stderr.write(
        f"streamtail: demo: local Kinesis and DynamoDB at {endpoint}: stream {DEMO_STREAM} "
        f"(2 shards) and table {DEMO_TABLE} (stream enabled), ~{rate:g} records/s.\n"
        f"streamtail: demo: following {followed}; Ctrl-C to stop. In another terminal, try:\n"
        f"  AWS_ACCESS_KEY_ID=demo AWS_SECRET_ACCESS_KEY=demo streamtail follow {other} "
        f"--endpoint-url {endpoint}\n"
    )
    env.stderr.flush()
    stop = threading.Event()
    producer = threading.Thread(target=_producer, args=(kinesis, dynamodb, rate, stop), daemon=True)
    producer.start()
    time.sleep(0.05)
    request = ReadRequest(
        stream=followed,
        conn=Connection(region=DEMO_REGION, endpoint_url=endpoint),
        follow=True,
        start="trim-horizon",
        limit=limit,
        output=output,
    )
    try:
        run_read(request, env)
    finally:
        stop.set()
        producer.join(timeout=2)
        server.stop()
