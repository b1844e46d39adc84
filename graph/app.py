"""The translation graph: ingress -> Translator -> postprocessor, wired and nothing else.

``serve run graph.app:app`` runs it with the code defaults (t5-small from the hub);
``serve run configs/local.yaml`` runs it as configured. Sizing lives in configs/*.yaml.
"""

from collections.abc import Mapping
from typing import Any

from ray.serve import Application

from deployments.ingress import TranslationIngress
from deployments.postprocessor import Postprocessor
from deployments.settings import IngressSettings, PostprocessorSettings, TranslatorSettings
from deployments.translator import Translator

APP_NAME = "translation"


def build_app(options: Mapping[str, Mapping[str, Any]] | None = None) -> Application:
    """The graph, each deployment optionally with ``.options()`` keyed by its name.

    ``options`` takes a config file's ``deployments`` entries (see tests/integration), so the
    code defaults apply only where no config speaks. Every deployment gets a ``user_config``
    so that ``reconfigure`` always runs.
    """
    options = options or {}

    def configured(deployment, settings) -> Any:
        return deployment.options(
            **{"user_config": settings.model_dump(), **options.get(deployment.name, {})}
        )

    translator = configured(Translator, TranslatorSettings()).bind()
    postprocessor = configured(Postprocessor, PostprocessorSettings()).bind()
    return configured(TranslationIngress, IngressSettings()).bind(translator, postprocessor)


app = build_app()
