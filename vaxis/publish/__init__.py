"""Publishing: the book build, results files and the scoreboard, the per-claim verdict rules, calibration of those
rules, figure helpers, and the headless-browser site check."""
