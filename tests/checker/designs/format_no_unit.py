# expect: format
# no GAUBase subclass at all
import torch
from torch import nn


class Block(nn.Module):
    def forward(self, X):
        return X
