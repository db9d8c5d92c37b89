"""OpenMP settings the kernels need, applied before either kernel loads libgomp."""

import os

# Idle OpenMP workers sleep instead of spinning.  On a plant PC the other core
# runs the UI and the Modbus poller; a worker spinning there (libgomp's default
# after every parallel loop) steals it, and with the other core busy 2 threads
# measured up to 2x slower than 1.  Waking a sleeping worker costs tens of
# microseconds per call, far below any call worth two threads.  A value the
# user set wins.  (libgomp reads it once, when our kernels first load it;
# scikit-learn carries its own copy.)
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
