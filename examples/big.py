"""A 100 KB response, for the benchmarks."""
BODY = b"x" * (100 * 1024)


def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "application/octet-stream"),
                              ("Content-Length", str(len(BODY)))])
    return [BODY]
