"""`whowrote serve`: the judge over HTTP on FastAPI + uvicorn, with the web page at `/`.

    whowrote serve --model runs/authors-20261127-120000 --port 8000
"""

from __future__ import annotations

import os
import sys

from ..errors import EXIT_OK, WhowroteError


def cmd_serve(args) -> int:
    import torch
    import uvicorn

    from ..judge.core import Judge
    from ..judge.loading import model_folder
    from ..serve.app import create_app, port_free

    if args.max_bytes < 1 or args.timeout <= 0:
        raise WhowroteError("serve: --max-bytes and --timeout must be positive")
    judge = Judge.load(args.model)  # a bad model folder fails here, before any port is taken
    if not port_free(args.host, args.port):
        raise WhowroteError(f"serve: port {args.port} on {args.host} is in use; pick another with --port")
    torch.set_num_threads(os.cpu_count() or 1)
    folder = model_folder(args.model)
    run_dir = folder.parent if folder.name == "model" else None
    app = create_app(judge, run_dir, max_bytes=args.max_bytes, timeout_s=args.timeout)
    print(f"whowrote: serving {folder} on http://{args.host}:{args.port}/ (API docs at /docs)", file=sys.stderr)
    # no access log: a line per request costs the model time under load (errors still print)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", access_log=False)
    return EXIT_OK


def register(sub) -> None:
    p = sub.add_parser("serve", help="the judge over HTTP, with a web page: score, explain, rolling attribution")
    p.add_argument("--model", required=True, help="a run folder or a model folder")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--max-bytes", type=int, default=1_000_000, help="largest request body accepted (413 above)")
    p.add_argument("--timeout", type=float, default=60.0, help="seconds before a request gets 504")
    p.set_defaults(func=cmd_serve)
