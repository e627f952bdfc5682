// The exact /metrics text of knownComponents() with default Node metrics off:
// every number here follows by hand from the Stats set in fixtures.ts (ms
// become seconds; _sum is mean x count; success is count - errors).
export const EXPECTED_METRICS = `# HELP tickwork_poll_duration_seconds Time a poll (read) took, since the component last started.
# TYPE tickwork_poll_duration_seconds summary
tickwork_poll_duration_seconds{component="plant",kind="ThreadDict",quantile="0"} 0.001
tickwork_poll_duration_seconds{component="plant",kind="ThreadDict",quantile="0.5"} 0.003
tickwork_poll_duration_seconds{component="plant",kind="ThreadDict",quantile="0.9"} 0.008
tickwork_poll_duration_seconds{component="plant",kind="ThreadDict",quantile="0.99"} 0.009
tickwork_poll_duration_seconds{component="plant",kind="ThreadDict",quantile="1"} 0.01
tickwork_poll_duration_seconds_sum{component="plant",kind="ThreadDict"} 0.12
tickwork_poll_duration_seconds_count{component="plant",kind="ThreadDict"} 30
tickwork_poll_duration_seconds{component="heartbeat",kind="ThreadedObject",quantile="0"} 0.002
tickwork_poll_duration_seconds{component="heartbeat",kind="ThreadedObject",quantile="0.5"} 0.002
tickwork_poll_duration_seconds{component="heartbeat",kind="ThreadedObject",quantile="0.9"} 0.002
tickwork_poll_duration_seconds{component="heartbeat",kind="ThreadedObject",quantile="0.99"} 0.002
tickwork_poll_duration_seconds{component="heartbeat",kind="ThreadedObject",quantile="1"} 0.002
tickwork_poll_duration_seconds_sum{component="heartbeat",kind="ThreadedObject"} 0.01
tickwork_poll_duration_seconds_count{component="heartbeat",kind="ThreadedObject"} 5

# HELP tickwork_poll_lateness_seconds How late polls started against their scheduled slot, since the last start.
# TYPE tickwork_poll_lateness_seconds summary
tickwork_poll_lateness_seconds{component="plant",kind="ThreadDict",quantile="0"} 0
tickwork_poll_lateness_seconds{component="plant",kind="ThreadDict",quantile="0.5"} 0.001
tickwork_poll_lateness_seconds{component="plant",kind="ThreadDict",quantile="0.9"} 0.005
tickwork_poll_lateness_seconds{component="plant",kind="ThreadDict",quantile="0.99"} 0.012
tickwork_poll_lateness_seconds{component="plant",kind="ThreadDict",quantile="1"} 0.02
tickwork_poll_lateness_seconds_sum{component="plant",kind="ThreadDict"} 0.06
tickwork_poll_lateness_seconds_count{component="plant",kind="ThreadDict"} 30
tickwork_poll_lateness_seconds_sum{component="heartbeat",kind="ThreadedObject"} 0
tickwork_poll_lateness_seconds_count{component="heartbeat",kind="ThreadedObject"} 0

# HELP tickwork_polls_total Polls finished since the component last started, by result (success, error).
# TYPE tickwork_polls_total counter
tickwork_polls_total{component="plant",kind="ThreadDict",result="success"} 26
tickwork_polls_total{component="plant",kind="ThreadDict",result="error"} 4
tickwork_polls_total{component="heartbeat",kind="ThreadedObject",result="success"} 5
tickwork_polls_total{component="heartbeat",kind="ThreadedObject",result="error"} 0

# HELP tickwork_task_run_seconds Time worker tasks ran, since the pool last started.
# TYPE tickwork_task_run_seconds summary
tickwork_task_run_seconds{component="analysis",kind="WorkerProcess",quantile="0"} 0.01
tickwork_task_run_seconds{component="analysis",kind="WorkerProcess",quantile="0.5"} 0.018
tickwork_task_run_seconds{component="analysis",kind="WorkerProcess",quantile="0.9"} 0.03
tickwork_task_run_seconds{component="analysis",kind="WorkerProcess",quantile="0.99"} 0.04
tickwork_task_run_seconds{component="analysis",kind="WorkerProcess",quantile="1"} 0.04
tickwork_task_run_seconds_sum{component="analysis",kind="WorkerProcess"} 0.24
tickwork_task_run_seconds_count{component="analysis",kind="WorkerProcess"} 12

# HELP tickwork_task_wait_seconds Time worker tasks waited in the queue before running, since the last start.
# TYPE tickwork_task_wait_seconds summary
tickwork_task_wait_seconds{component="analysis",kind="WorkerProcess",quantile="0"} 0
tickwork_task_wait_seconds{component="analysis",kind="WorkerProcess",quantile="0.5"} 0.004
tickwork_task_wait_seconds{component="analysis",kind="WorkerProcess",quantile="0.9"} 0.009
tickwork_task_wait_seconds{component="analysis",kind="WorkerProcess",quantile="0.99"} 0.01
tickwork_task_wait_seconds{component="analysis",kind="WorkerProcess",quantile="1"} 0.01
tickwork_task_wait_seconds_sum{component="analysis",kind="WorkerProcess"} 0.06
tickwork_task_wait_seconds_count{component="analysis",kind="WorkerProcess"} 12

# HELP tickwork_tasks_total Worker tasks settled since the pool last started, by terminal state (completed, failed, canceled, timed-out).
# TYPE tickwork_tasks_total counter
tickwork_tasks_total{component="analysis",kind="WorkerProcess",state="completed"} 10
tickwork_tasks_total{component="analysis",kind="WorkerProcess",state="failed"} 1
tickwork_tasks_total{component="analysis",kind="WorkerProcess",state="canceled"} 2
tickwork_tasks_total{component="analysis",kind="WorkerProcess",state="timed-out"} 1

# HELP tickwork_task_queue_size Worker tasks waiting in the queue.
# TYPE tickwork_task_queue_size gauge
tickwork_task_queue_size{component="analysis",kind="WorkerProcess"} 4

# HELP tickwork_task_utilization_ratio Share of the pool's thread time spent running tasks since the last start, 0..1.
# TYPE tickwork_task_utilization_ratio gauge
tickwork_task_utilization_ratio{component="analysis",kind="WorkerProcess"} 0.5

# HELP tickwork_cron_duration_seconds Time cron runs took, since the crontab last started.
# TYPE tickwork_cron_duration_seconds summary
tickwork_cron_duration_seconds_sum{component="snapshots",kind="CronTab"} 0
tickwork_cron_duration_seconds_count{component="snapshots",kind="CronTab"} 0

# HELP tickwork_cron_lateness_seconds How late cron runs started against their scheduled time, since the last start.
# TYPE tickwork_cron_lateness_seconds summary
tickwork_cron_lateness_seconds{component="snapshots",kind="CronTab",quantile="0"} 0.001
tickwork_cron_lateness_seconds{component="snapshots",kind="CronTab",quantile="0.5"} 0.002
tickwork_cron_lateness_seconds{component="snapshots",kind="CronTab",quantile="0.9"} 0.003
tickwork_cron_lateness_seconds{component="snapshots",kind="CronTab",quantile="0.99"} 0.003
tickwork_cron_lateness_seconds{component="snapshots",kind="CronTab",quantile="1"} 0.003
tickwork_cron_lateness_seconds_sum{component="snapshots",kind="CronTab"} 0.006
tickwork_cron_lateness_seconds_count{component="snapshots",kind="CronTab"} 3

# HELP tickwork_cron_runs_total Cron runs finished since the crontab last started, by result (success, error).
# TYPE tickwork_cron_runs_total counter
tickwork_cron_runs_total{component="snapshots",kind="CronTab",result="success"} 3
tickwork_cron_runs_total{component="snapshots",kind="CronTab",result="error"} 0

# HELP tickwork_run_duration_seconds Run time of components of other kinds, since they last started.
# TYPE tickwork_run_duration_seconds summary
tickwork_run_duration_seconds_sum{component="bridge",kind="Bridge"} 0
tickwork_run_duration_seconds_count{component="bridge",kind="Bridge"} 0

# HELP tickwork_run_lateness_seconds Start lateness of components of other kinds, since they last started.
# TYPE tickwork_run_lateness_seconds summary
tickwork_run_lateness_seconds_sum{component="bridge",kind="Bridge"} 0
tickwork_run_lateness_seconds_count{component="bridge",kind="Bridge"} 0

# HELP tickwork_runs_total Runs of components of other kinds finished since they last started, by result.
# TYPE tickwork_runs_total counter
tickwork_runs_total{component="bridge",kind="Bridge",result="success"} 0
tickwork_runs_total{component="bridge",kind="Bridge",result="error"} 0

# HELP tickwork_up Whether the component is running (1) or idle, stopped or stopping (0).
# TYPE tickwork_up gauge
tickwork_up{component="plant",kind="ThreadDict"} 1
tickwork_up{component="heartbeat",kind="ThreadedObject"} 1
tickwork_up{component="analysis",kind="WorkerProcess"} 1
tickwork_up{component="snapshots",kind="CronTab"} 1
tickwork_up{component="bridge",kind="Bridge"} 0

# HELP tickwork_items Items the component holds: ThreadDict keys, worker targets, cron jobs (0 for ThreadedObjects).
# TYPE tickwork_items gauge
tickwork_items{component="plant",kind="ThreadDict"} 3
tickwork_items{component="heartbeat",kind="ThreadedObject"} 0
tickwork_items{component="analysis",kind="WorkerProcess"} 1
tickwork_items{component="snapshots",kind="CronTab"} 1
tickwork_items{component="bridge",kind="Bridge"} 0

# HELP tickwork_failing_items Items whose last run failed.
# TYPE tickwork_failing_items gauge
tickwork_failing_items{component="plant",kind="ThreadDict"} 1
tickwork_failing_items{component="heartbeat",kind="ThreadedObject"} 0
tickwork_failing_items{component="analysis",kind="WorkerProcess"} 0
tickwork_failing_items{component="snapshots",kind="CronTab"} 0
tickwork_failing_items{component="bridge",kind="Bridge"} 0

# HELP tickwork_stale_items Items whose value is older than its expiry.
# TYPE tickwork_stale_items gauge
tickwork_stale_items{component="plant",kind="ThreadDict"} 1
tickwork_stale_items{component="heartbeat",kind="ThreadedObject"} 0
tickwork_stale_items{component="analysis",kind="WorkerProcess"} 0
tickwork_stale_items{component="snapshots",kind="CronTab"} 0
tickwork_stale_items{component="bridge",kind="Bridge"} 0

# HELP tickwork_running Runs in flight now.
# TYPE tickwork_running gauge
tickwork_running{component="plant",kind="ThreadDict"} 1
tickwork_running{component="heartbeat",kind="ThreadedObject"} 0
tickwork_running{component="analysis",kind="WorkerProcess"} 0
tickwork_running{component="snapshots",kind="CronTab"} 0
tickwork_running{component="bridge",kind="Bridge"} 0

# HELP tickwork_usage_ratio Busy fraction over recent runs: run time / period; above 1 means overrunning.
# TYPE tickwork_usage_ratio gauge
tickwork_usage_ratio{component="plant",kind="ThreadDict"} 0.25
tickwork_usage_ratio{component="heartbeat",kind="ThreadedObject"} 0.002
tickwork_usage_ratio{component="analysis",kind="WorkerProcess"} 0.5
tickwork_usage_ratio{component="snapshots",kind="CronTab"} 0
tickwork_usage_ratio{component="bridge",kind="Bridge"} 0

# HELP tickwork_last_success_timestamp_seconds When a run of the component last succeeded, Unix time in seconds.
# TYPE tickwork_last_success_timestamp_seconds gauge
tickwork_last_success_timestamp_seconds{component="plant",kind="ThreadDict"} 1767225599.95
tickwork_last_success_timestamp_seconds{component="heartbeat",kind="ThreadedObject"} 1767225599.6
tickwork_last_success_timestamp_seconds{component="analysis",kind="WorkerProcess"} 1767225599.9
tickwork_last_success_timestamp_seconds{component="snapshots",kind="CronTab"} 1767225540

# HELP tickwork_overruns_total Slots skipped because the previous run was still going, since the component last started.
# TYPE tickwork_overruns_total counter
tickwork_overruns_total{component="plant",kind="ThreadDict"} 2
tickwork_overruns_total{component="heartbeat",kind="ThreadedObject"} 0
tickwork_overruns_total{component="analysis",kind="WorkerProcess"} 0
tickwork_overruns_total{component="snapshots",kind="CronTab"} 0
tickwork_overruns_total{component="bridge",kind="Bridge"} 0

# HELP tickwork_missed_total Slots missed because the process was blocked or suspended or the clock jumped, since the last start.
# TYPE tickwork_missed_total counter
tickwork_missed_total{component="plant",kind="ThreadDict"} 1
tickwork_missed_total{component="heartbeat",kind="ThreadedObject"} 0
tickwork_missed_total{component="analysis",kind="WorkerProcess"} 0
tickwork_missed_total{component="snapshots",kind="CronTab"} 0
tickwork_missed_total{component="bridge",kind="Bridge"} 0
`;
