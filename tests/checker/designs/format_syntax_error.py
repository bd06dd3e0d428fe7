# expect: format
# does not parse
import torch
from genesys.gau import GAUBase


class Unit(GAUBase):
    def _forward(self, X, **Z)
        return X
