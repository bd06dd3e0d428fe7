"""The Hugging Face config of an exported Genesys design (loaded with trust_remote_code)."""
from transformers import PretrainedConfig


class GenesysConfig(PretrainedConfig):
    model_type = "genesys"

    def __init__(self, d_model=128, n_block=2, vocab_size=1000, norm_eps=1e-5, block_kwargs=None, design=None,
                 **kwargs):
        self.d_model, self.n_block, self.vocab_size, self.norm_eps = d_model, n_block, vocab_size, norm_eps
        self.block_kwargs = block_kwargs or {}
        self.design = design
        self.hidden_size = d_model
        self.num_hidden_layers = n_block
        super().__init__(**kwargs)
