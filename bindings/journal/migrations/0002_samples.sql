-- A sample of each running container's cgroup figures, every --sample.
CREATE TABLE samples (
  id                 INTEGER PRIMARY KEY,
  time_ns            INTEGER NOT NULL,
  container_id       TEXT NOT NULL,
  container_name     TEXT NOT NULL,
  memory_usage       INTEGER,  -- bytes
  memory_working_set INTEGER,  -- bytes: usage less inactive file pages, as docker stats shows
  memory_limit       INTEGER,  -- bytes; NULL when unlimited
  cpu_usage_ns       INTEGER,  -- cumulative CPU time
  cpu_throttled_ns   INTEGER,  -- cumulative throttled time
  cpu_nr_throttled   INTEGER,
  pids               INTEGER,
  pids_limit         INTEGER,  -- NULL when unlimited
  oom_kills          INTEGER   -- the cgroup's OOM kill counter
);
CREATE INDEX samples_time ON samples(time_ns);
CREATE INDEX samples_container ON samples(container_id, time_ns);
CREATE INDEX samples_name ON samples(container_name, time_ns);
