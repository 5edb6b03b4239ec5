"""A believable demo club: two teams, rosters, exercise library, a season of workouts, restrictions.

Safe to re-run: each part is created only when missing, and the random generator is seeded, so a
second run changes nothing. Runs in a few seconds because rows are written with bulk_create.

Layout: `club` (logins, facilities, teams, rosters), `exercises` (the exercise library),
`season` (workouts, their exercises and assignments, templates), `restrictions` (medical cases) and
`builder` (`build_demo_club`, which `manage.py seed_demo` calls).
"""
