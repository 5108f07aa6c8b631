"""The example smoke hook against a real HTTP server on localhost: run with python3 -m unittest."""

import http.server
import os
import socket
import sys
import threading
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import app  # noqa: E402


class Candidate(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == "/health" and self.headers.get("X-Cutover-Candidate") == "1":
            code = 200
        elif self.path == "/broken":
            code = 500
        else:
            code = 404
        self.send_response(code)
        self.end_headers()
        self.wfile.write(b"secret row data that must not reach the reason")

    def log_message(self, *args):
        pass


class SmokeHook(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = http.server.HTTPServer(("127.0.0.1", 0), Candidate)
        threading.Thread(target=cls.server.serve_forever, daemon=True).start()
        cls.url = f"http://127.0.0.1:{cls.server.server_port}"

    @classmethod
    def tearDownClass(cls):
        cls.server.shutdown()

    def run_with(self, endpoint, paths="/health"):
        os.environ["SMOKE_PATHS"] = paths
        os.environ["SMOKE_HEADER"] = "X-Cutover-Candidate: 1"
        return app.handler({"testEndpoint": endpoint, "stage": "beforeAllowTraffic", "attempt": 1})

    def test_a_healthy_candidate_succeeds(self):
        self.assertEqual(self.run_with(self.url)["status"], "Succeeded")

    def test_a_5xx_fails_naming_the_path_and_status_without_the_body(self):
        answer = self.run_with(self.url, "/health,/broken")
        self.assertEqual(answer["status"], "Failed")
        self.assertIn("/broken", answer["reason"])
        self.assertIn("500", answer["reason"])
        self.assertNotIn("secret", answer["reason"])

    def test_nothing_listening_yet_is_in_progress(self):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        answer = self.run_with(f"http://127.0.0.1:{port}")
        self.assertEqual((answer["status"], answer["retryAfterSeconds"]), ("InProgress", 10))

    def test_no_endpoint_fails(self):
        self.assertEqual(app.handler({})["status"], "Failed")


if __name__ == "__main__":
    unittest.main()
