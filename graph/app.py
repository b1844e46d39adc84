"""The translation graph: ingress -> Translator -> postprocessor, wired and nothing else.

``serve run graph.app:app`` runs it with the code defaults (t5-small from the hub);
``serve run configs/local.yaml`` runs it as configured. Sizing lives in configs/*.yaml.
"""

from pydantic import BaseModel
from ray.serve import Application

from deployments.core.settings import IngressSettings, PostprocessorSettings, TranslatorSettings
from deployments.ingress import TranslationIngress
from deployments.postprocessor import Postprocessor
from deployments.translator import Translator

APP_NAME = "translation"


def build_app() -> Application:
    # Every deployment gets a user_config, so reconfigure() always runs: without a config file
    # the defaults apply, with one the file's values replace them.
    translator = Translator.options(user_config=_defaults(TranslatorSettings)).bind()
    postprocessor = Postprocessor.options(user_config=_defaults(PostprocessorSettings)).bind()
    return TranslationIngress.options(user_config=_defaults(IngressSettings)).bind(
        translator, postprocessor
    )


def _defaults(settings: type[BaseModel]) -> dict:
    return settings().model_dump(exclude_none=True)


app = build_app()
