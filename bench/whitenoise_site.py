"""The example Flask site behind WhiteNoise, for bench/compare's `static`
profile: how a gunicorn user serves static files without an nginx in front
(https://whitenoise.readthedocs.io). Run from examples/site (--chdir)."""
import os

from whitenoise import WhiteNoise

from app import app as site

app = WhiteNoise(site, root=os.path.join(site.root_path, "static"), prefix="static/")
