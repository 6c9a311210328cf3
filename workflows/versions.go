package workflows

// progressQueryChange has a cycle answer the progress query, and no longer
// signal its progress to the job every few seconds: each signal added
// events to the job's run, which a cycle of days pushed past Temporal's
// limits. Before it, cycles signalled their progress.
const progressQueryChange = "progress-by-query"
