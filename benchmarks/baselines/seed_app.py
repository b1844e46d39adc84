"""The tutorial's app ("Develop and Deploy an ML Application"), ported to transformers 5.

The baseline the graph is measured against, kept as the tutorial has it: one FastAPI
deployment, 2 replicas x 0.2 CPU, one request per ``generate``. transformers 5 removed
``pipeline("translation_en_to_fr")``, so the port does what the pipeline did: the checkpoint's
``task_specific_params["translation_en_to_fr"]`` prefix and decoding settings, one text at a time.
"""

import torch
from fastapi import FastAPI
from ray import serve
from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

app = FastAPI()


@serve.deployment(num_replicas=2, ray_actor_options={"num_cpus": 0.2, "num_gpus": 0})
@serve.ingress(app)
class Translator:
    def __init__(self, model: str = "t5-small"):
        # Load model
        self.tokenizer = AutoTokenizer.from_pretrained(model)
        self.model = AutoModelForSeq2SeqLM.from_pretrained(model).eval()
        params = dict(self.model.config.task_specific_params["translation_en_to_fr"])
        self.prefix = params.pop("prefix", "")
        self.generate_kwargs = params

    @app.post("/")
    def translate(self, text: str) -> str:
        # Run inference
        inputs = self.tokenizer(self.prefix + text, return_tensors="pt")
        with torch.inference_mode():
            output_ids = self.model.generate(**inputs, **self.generate_kwargs)

        # Post-process output to return only the translation text
        return self.tokenizer.decode(output_ids[0], skip_special_tokens=True)


def build(args: dict):
    """Serve's application builder: ``serve run benchmarks.baselines.seed_app:build model=...``
    (make bench deploys it so, by import path, and never imports torch itself)."""
    return Translator.bind(args.get("model", "t5-small"))
