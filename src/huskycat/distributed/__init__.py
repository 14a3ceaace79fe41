"""Running a huskycat run's tools on a Dask cluster: which cluster (``cluster``), how
tools keep their cache on the client (``tools``), whether the workers see the same files
(``files``). The engine's side is :mod:`huskycat.core.dask_backend`. Nothing here is
imported unless a run asks for a cluster."""
