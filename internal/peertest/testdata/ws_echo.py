"""A WebSocket echo server on python3-websockets (Debian's package).

It listens on 127.0.0.1 at a free port and prints the port on stdout. Each
connection first gets a greeting naming the path and the headers a proxy
may set, then every message is echoed back as it came (text as text,
binary as binary); a text message "push N" is answered with N numbered
messages instead, sent by the server on its own.
"""
import asyncio
import json
import signal
import sys

import websockets


async def handle(ws, path=None):
    path = path or ws.path
    hdr = ws.request_headers
    await ws.send(json.dumps({
        "greeting": "ws-echo",
        "path": path,
        "x_forwarded_for": hdr.get("X-Forwarded-For", ""),
        "x_proxy": hdr.get("X-Proxy", ""),
        "origin": hdr.get("Origin", ""),
    }))
    async for msg in ws:
        if isinstance(msg, str) and msg.startswith("push "):
            for i in range(int(msg[5:])):
                await ws.send("pushed %d" % i)
            continue
        await ws.send(msg)


async def main():
    stop = asyncio.get_running_loop().create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set_result, None)
    async with websockets.serve(handle, "127.0.0.1", 0, max_size=None, compression=None) as srv:
        print(srv.sockets[0].getsockname()[1], flush=True)
        await stop


asyncio.run(main())
