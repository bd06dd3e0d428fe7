import multiprocessing
import os
import signal

from genesys.gau import GAUBase


class DiesInWorkerBlock(GAUBase):
    """Identity block whose forward SIGKILLs its own process when that process is a worker."""

    def __init__(self, embed_dim: int, block_loc: tuple, kwarg_all: dict, device=None, dtype=None, **kwargs):
        super().__init__(embed_dim, block_loc, kwarg_all)

    def _forward(self, X, **Z):
        if multiprocessing.parent_process() is None:
            raise RuntimeError("DiesInWorkerBlock ran in the main process; it only dies inside workers")
        os.kill(os.getpid(), signal.SIGKILL)
        return X


CHILDREN_DECLARATIONS = []
SPEC = {
    "unitname": "DiesInWorkerBlock",
    "inputs": ["X"],
    "outputs": ["Y"],
    "document": "Kills its own worker process on the first forward.",
}
ARGS = {}
CHILDREN = []
DESC = "Test design: a worker that dies."
