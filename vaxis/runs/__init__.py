"""Running experiments: resumable sweep grids and their store, executors (inline, local processes, Ray), the
fold-job kit, and the content-addressed cache."""
