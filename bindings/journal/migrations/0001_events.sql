-- What happened: engine events, OOM kills (cgroup counter, kernel log), exits,
-- and the recorder's own notes (engine down/up, recorder start/stop).
CREATE TABLE events (
  id             INTEGER PRIMARY KEY,
  time_ns        INTEGER NOT NULL,  -- Unix time in nanoseconds
  source         TEXT NOT NULL,     -- engine, cgroup, kmsg, ctrsh (and later trace)
  type           TEXT NOT NULL,     -- the engine's event type (container, image, network, ...); engine, journal for ctrsh rows
  action         TEXT NOT NULL,     -- create, start, die, oom, health_status: healthy, ...; oom_kill; engine_down, engine_up, ...
  actor_id       TEXT,              -- the engine's actor id (a container's id, an image's, a network's)
  container_id   TEXT,              -- set when the row is about a container
  container_name TEXT,
  image          TEXT,
  exit_code      INTEGER,           -- die
  oom_killed     INTEGER,           -- die: State.OOMKilled (0 or 1), when the engine still had the container
  restart_count  INTEGER,           -- die: RestartCount right after this death
  oom_kills      INTEGER,           -- oom_kill from the cgroup counter: the count after the kill
  pid            INTEGER,           -- oom_kill from the kernel's log: the victim's host PID
  comm           TEXT,              -- the victim's command name
  memcg          TEXT,              -- the victim's memory cgroup
  attributes     TEXT,              -- JSON object: the engine's attributes, or the row's details
  dedup          TEXT               -- identity of a row that may be seen twice; NULL when it cannot be
);
CREATE INDEX events_time ON events(time_ns);
CREATE INDEX events_container ON events(container_id, time_ns);
CREATE INDEX events_name ON events(container_name, time_ns);
CREATE UNIQUE INDEX events_dedup ON events(dedup);
