"""HTTP stand-ins on loopback: the plumbing the provider stand-ins share.

`LoopbackServer` runs a handler class on 127.0.0.1 (port 0, i.e. ephemeral, unless told; a
given port can be bound again at once, for a provider that "comes back") on a daemon thread
between `start()` and `stop()`. `LoopbackJSONServer` is one that answers POSTs: a subclass
answers each in `answer(headers, body)` with (status, payload), or None to hang up.
"""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class _Server(ThreadingHTTPServer):
    allow_reuse_address = True
    daemon_threads = True


class LoopbackServer:
    """An HTTP server with `handler` on loopback, serving on a daemon thread between start() and stop()."""

    def __init__(self, handler: type[BaseHTTPRequestHandler], host: str = "127.0.0.1", port: int = 0):
        self.server = _Server((host, port), handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


class LoopbackJSONServer(LoopbackServer):
    CONTENT_TYPE = "application/json"

    def __init__(self, port: int = 0):
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                answer = stand_in.answer(dict(self.headers.items()), body)
                if answer is None:
                    return  # hung up
                status, payload = answer
                data = json.dumps(payload, ensure_ascii=False).encode()
                self.send_response(status)
                self.send_header("Content-Type", stand_in.CONTENT_TYPE)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                try:
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client (a worker we killed) is gone

        super().__init__(Handler, port=port)

    def answer(self, headers: dict, body: bytes) -> tuple[int, object] | None:
        raise NotImplementedError

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}/"
