"""A Genesys design as a Hugging Face causal LM (loaded with trust_remote_code). The block has no KV cache:
generation recomputes the whole prefix at each step (fine for the small models the ladder trains)."""
import torch.nn.functional as F
from transformers import GenerationMixin, PreTrainedModel
from transformers.modeling_outputs import CausalLMOutput

from .configuration_genesys import GenesysConfig
from .model import GenesysModel


class GenesysForCausalLM(PreTrainedModel, GenerationMixin):
    config_class = GenesysConfig
    base_model_prefix = "model"
    main_input_name = "input_ids"

    def __init__(self, config):
        super().__init__(config)
        self.model = GenesysModel(config.d_model, config.n_block, config.vocab_size, config.norm_eps,
                                  config.block_kwargs)
        self.post_init()

    def _init_weights(self, module):
        """Weights come from the export (or the design's own init); nothing to re-initialise here."""

    def forward(self, input_ids=None, attention_mask=None, labels=None, **kwargs):
        logits = self.model(input_ids)
        loss = None
        if labels is not None:
            loss = F.cross_entropy(logits[:, :-1].reshape(-1, logits.shape[-1]).float(), labels[:, 1:].reshape(-1),
                                   ignore_index=-100)
        return CausalLMOutput(loss=loss, logits=logits)

    def prepare_inputs_for_generation(self, input_ids, **kwargs):
        return {"input_ids": input_ids}
