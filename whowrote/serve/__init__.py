"""The judge over HTTP and in a browser: the FastAPI app (app.py) and its page (static/).
`whowrote serve` lives in commands/serve.py."""
