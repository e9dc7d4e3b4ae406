"""Survey-scale vetting: many candidates from a table, resumable, on all cores or a Dask cluster.

* :mod:`~vetcore.batch.table` reads the candidate table (plain layout or the TOI
  catalogue as published);
* :mod:`~vetcore.batch.tasks` holds the two kinds of work: one task per
  (target, data source ≈ sector) running the sector-scope checks, and one per
  target running the target-scope checks and writing its reports;
* :mod:`~vetcore.batch.executors` runs them in-process, on a local process pool
  or on Dask distributed;
* :mod:`~vetcore.batch.driver` plans, skips finished targets (same inputs hash),
  reports progress and writes ``summary.ecsv``/``summary.csv``.
"""

from vetcore.batch.driver import BatchResult, run_batch
from vetcore.batch.table import Candidate, read_table

__all__ = ["BatchResult", "Candidate", "read_table", "run_batch"]
