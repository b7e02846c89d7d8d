"""A tiny demo upstream for the local walkthrough: answers every request with an LLM-style Server-Sent Events
stream whose text contains a (test) card number, split across events and TCP writes, so that the DLP server's
streaming masking is visible. Standard library only; listens on 0.0.0.0:8000."""

import json
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# 4111 1111 1111 1111 is the well-known Visa test number (passes Luhn, never a real card).
PIECES = ["Sure. The card on file is 4111 ", "1111 1111 ", "1111, expiring 12/29.", " Anything else?"]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        if self.path == "/healthz":
            self._plain(200, "ok\n")
            return
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("cache-control", "no-cache")
        self.send_header("transfer-encoding", "chunked")
        self.end_headers()
        for piece in PIECES:
            event = "data: " + json.dumps({"choices": [{"delta": {"content": piece}}]}) + "\n\n"
            self._chunk(event.encode())
            time.sleep(0.2)
        self._chunk(b"data: [DONE]\n\n")
        self.wfile.write(b"0\r\n\r\n")

    def do_POST(self):
        # Read the request body (a chat prompt, say) so the connection can be reused; the reply is the same stream.
        self.rfile.read(int(self.headers.get("content-length", "0")))
        self.do_GET()

    def _chunk(self, data):
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def _plain(self, status, text):
        body = text.encode()
        self.send_response(status)
        self.send_header("content-type", "text/plain")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, fmt, *args):
        print("demo-upstream " + fmt % args, flush=True)


if __name__ == "__main__":
    ThreadingHTTPServer(("0.0.0.0", 8000), Handler).serve_forever()
