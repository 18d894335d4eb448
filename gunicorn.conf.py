"""gunicorn settings read from the working directory (gunicorn loads ./gunicorn.conf.py by default).

Request logs keep no personal data from URLs: searches put names, e-mails and phone numbers in
query strings, and the referring page's URL carries them too. The line holds the method, the path
without its query string, the status, the size and the time taken (issue 17: erasure must reach
every copy, and a log line cannot be erased).
"""

access_log_format = '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(L)s'
