"""A small course site: Flask + Jinja2 + SQLite, like the apps srv serves.

    srv --chdir examples/site app:app      # or: make run

/            the course index: every lesson, rendered through template
             inheritance, loops and macros (the template-heavy page)
/lesson/<n>  one lesson: a few queries and a smaller page
/api/lessons the lessons as JSON
/health      a bare OK, for load balancers
"""
import os
import sqlite3
import threading

from flask import Flask, abort, g, jsonify, render_template

HERE = os.path.dirname(os.path.abspath(__file__))
DB = os.environ.get("SITE_DB", os.path.join(HERE, "site.db"))

app = Flask(__name__)

TOPICS = ["Variables", "Loops", "Functions", "Classes", "Modules", "Errors", "Files",
          "Testing", "Packaging", "Async", "Typing", "Databases"]
_init_lock = threading.Lock()


def build_db(path):
    """Creates the database on first use: 380 lessons, their sections and
    comments. Deterministic, so every run serves the same pages."""
    con = sqlite3.connect(path)
    con.executescript("""
        CREATE TABLE IF NOT EXISTS lesson (id INTEGER PRIMARY KEY, title TEXT, topic TEXT,
                                           minutes INTEGER, level INTEGER, summary TEXT);
        CREATE TABLE IF NOT EXISTS section (id INTEGER PRIMARY KEY, lesson_id INTEGER,
                                            position INTEGER, heading TEXT, body TEXT);
        CREATE TABLE IF NOT EXISTS comment (id INTEGER PRIMARY KEY, lesson_id INTEGER,
                                            author TEXT, body TEXT);
        CREATE INDEX IF NOT EXISTS section_lesson ON section (lesson_id, position);
        CREATE INDEX IF NOT EXISTS comment_lesson ON comment (lesson_id);
    """)
    if con.execute("SELECT count(*) FROM lesson").fetchone()[0] == 0:
        for i in range(1, 381):
            topic = TOPICS[i % len(TOPICS)]
            con.execute("INSERT INTO lesson VALUES (?, ?, ?, ?, ?, ?)",
                        (i, "%s, part %d" % (topic, i // len(TOPICS) + 1), topic, 10 + i % 50,
                         i % 3 + 1, ("A lesson about %s. " % topic.lower()) * 4))
            for p in range(24):
                con.execute("INSERT INTO section (lesson_id, position, heading, body) "
                            "VALUES (?, ?, ?, ?)",
                            (i, p, "Step %d" % (p + 1),
                             ("Explain %s step %d with an example. " % (topic, p + 1)) * 6))
            for c in range(i % 12):
                con.execute("INSERT INTO comment (lesson_id, author, body) VALUES (?, ?, ?)",
                            (i, "learner%d" % c, "Thanks, the %s part helped." % topic))
        con.commit()
    con.close()


def db():
    if "db" not in g:
        if not os.path.exists(DB):
            with _init_lock:
                build_db(DB)
        g.db = sqlite3.connect(DB)
        g.db.row_factory = sqlite3.Row
    return g.db


@app.teardown_appcontext
def close_db(exc):
    con = g.pop("db", None)
    if con is not None:
        con.close()


@app.route("/")
def index():
    lessons = db().execute("SELECT * FROM lesson ORDER BY topic, id").fetchall()
    by_topic = {}
    for row in lessons:
        by_topic.setdefault(row["topic"], []).append(row)
    counts = dict(db().execute("SELECT lesson_id, count(*) FROM comment GROUP BY lesson_id"))
    return render_template("index.html", by_topic=by_topic, counts=counts,
                           total=len(lessons))


@app.route("/lesson/<int:n>")
def lesson(n):
    row = db().execute("SELECT * FROM lesson WHERE id = ?", (n,)).fetchone()
    if row is None:
        abort(404)
    sections = db().execute("SELECT * FROM section WHERE lesson_id = ? ORDER BY position",
                            (n,)).fetchall()
    comments = db().execute("SELECT * FROM comment WHERE lesson_id = ?", (n,)).fetchall()
    related = db().execute("SELECT * FROM lesson WHERE topic = ? AND id != ? ORDER BY id",
                           (row["topic"], n)).fetchall()
    stats = db().execute("SELECT count(*) AS n, sum(minutes) AS minutes FROM lesson "
                         "WHERE topic = ?", (row["topic"],)).fetchone()
    return render_template("lesson.html", lesson=row, sections=sections, comments=comments,
                           related=related, stats=stats)


@app.route("/api/lessons")
def api_lessons():
    rows = db().execute("SELECT id, title, topic, minutes FROM lesson ORDER BY id").fetchall()
    return jsonify([dict(r) for r in rows])


@app.route("/health")
def health():
    return "OK"
