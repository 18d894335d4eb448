"""The interpreters blueprint, named like its package: staff's registry pages (views.py) and the
interpreters' own portal (portal.py) add their routes to it."""

from flask import Blueprint

bp = Blueprint("interpreters", __name__)
