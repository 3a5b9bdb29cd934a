"""The hermetic index over HTTPS with a certificate no build trusts (a TLS-intercepting proxy).

    python3 tls_server.py DIRECTORY CERT KEY

Serves DIRECTORY on port 8443 like `python3 -m http.server`, with CERT/KEY: a self-signed
certificate the tests make for host `tlsindex` (tests/hermetic/tls.py). A build that fetches
from it sees what a corporate proxy re-signing HTTPS shows: a certificate it cannot verify.
"""

import functools
import http.server
import ssl
import sys

directory, cert, key = sys.argv[1:4]
handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=directory)
server = http.server.ThreadingHTTPServer(("", 8443), handler)
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(cert, key)
server.socket = context.wrap_socket(server.socket, server_side=True)
server.serve_forever()
