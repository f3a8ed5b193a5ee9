"""A real SMTP server (aiosmtpd) on 127.0.0.1, ephemeral port, collecting what it receives."""

import asyncio
import socket
import threading
from email import message_from_bytes, policy

from aiosmtpd.smtp import SMTP


class _Collect:
    def __init__(self, inbox: list):
        self.inbox = inbox

    async def handle_DATA(self, server, session, envelope):
        self.inbox.append({"rcpt": list(envelope.rcpt_tos), "message": message_from_bytes(envelope.original_content, policy=policy.default)})
        return "250 Message accepted"


class LoopbackSMTP:
    def __init__(self):
        self.messages: list[dict] = []
        self.loop = asyncio.new_event_loop()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        sock.listen(16)
        self.host, self.port = sock.getsockname()
        self.server = self.loop.run_until_complete(
            self.loop.create_server(lambda: SMTP(_Collect(self.messages), hostname="localhost"), sock=sock)
        )
        self.thread = threading.Thread(target=self.loop.run_forever, name="loopback-smtp", daemon=True)
        self.thread.start()

    def stop(self) -> None:
        async def _close():
            self.server.close()
            await self.server.wait_closed()

        asyncio.run_coroutine_threadsafe(_close(), self.loop).result(timeout=10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)
        self.loop.close()
