"""A WebSocket client on python3-websockets (Debian's package).

Usage: ws_client.py URL

It connects, reads the echo server's greeting, then checks echoes both
ways: text messages one by one, a 1 MiB binary message, 200 messages sent
back to back before any echo is read, and messages the server pushes on
its own; it ends with a close handshake. It prints one JSON object with
what it saw, and exits 1 if any echo differs.
"""
import asyncio
import hashlib
import json
import os
import sys

import websockets


async def run(url):
    out = {}
    async with websockets.connect(url, max_size=None, compression=None, open_timeout=10, close_timeout=5) as ws:
        out["greeting"] = json.loads(await asyncio.wait_for(ws.recv(), 10))
        out["response_headers"] = {k.lower(): v for k, v in ws.response_headers.raw_items()}
        for i in range(5):
            msg = "hello %d \u00e9\u2713" % i
            await ws.send(msg)
            got = await asyncio.wait_for(ws.recv(), 10)
            if got != msg:
                raise SystemExit("text echo %d: sent %r, got %r" % (i, msg, got))
        blob = os.urandom(1 << 20)
        await ws.send(blob)
        got = await asyncio.wait_for(ws.recv(), 10)
        if not isinstance(got, bytes) or got != blob:
            raise SystemExit("binary echo differs: sent %d bytes, got %d" % (len(blob), len(got)))
        out["binary_sha256"] = hashlib.sha256(got).hexdigest()
        for i in range(200):
            await ws.send("burst %d" % i)
        for i in range(200):
            got = await asyncio.wait_for(ws.recv(), 10)
            if got != "burst %d" % i:
                raise SystemExit("burst %d: got %r" % (i, got))
        await ws.send("push 3")
        out["pushed"] = [await asyncio.wait_for(ws.recv(), 10) for _ in range(3)]
    out["close_code"] = ws.close_code
    out["ok"] = True
    print(json.dumps(out))


asyncio.run(run(sys.argv[1]))
