"""`batch web`: the browser flow on the same pipeline: upload, preview the plan, apply, report.

app.py       create_app(settings): middleware, routers, error pages
auth.py      sessions, API tokens, roles, CSRF, sign-in throttling
store.py     the web's SQLite file beside the journal (users, tokens, web runs)
runs.py      the run manager: previews, applies in a background thread, cancel, resume
preview.py   the plan kept for the preview page, its seats and its paged lines
history.py   every run of the journal, joined with the web's own
pages.py     the HTML pages;  api.py  the JSON API
i18n.py      every text, English and Dutch
locking.py   the account lock a web apply holds
"""
