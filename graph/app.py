"""The translation graph: ingress -> Translator -> postprocessor, wired and nothing else.

``serve run graph.app:app`` runs it with the code defaults (t5-small from the hub);
``serve run configs/local.yaml`` runs it as configured. Sizing lives in configs/*.yaml.
"""

from typing import cast

from pydantic import BaseModel
from ray.serve import Application, Deployment

from deployments.core.settings import IngressSettings, PostprocessorSettings, TranslatorSettings
from deployments.ingress import TranslationIngress
from deployments.postprocessor import Postprocessor
from deployments.translator import Translator

APP_NAME = "translation"


def build_app() -> Application:
    # Every deployment gets a user_config, so reconfigure() always runs: without a config file
    # the defaults apply, with one the file's values replace them.
    translator = _deployment(Translator).options(user_config=_defaults(TranslatorSettings))
    postprocessor = _deployment(Postprocessor).options(user_config=_defaults(PostprocessorSettings))
    ingress = _deployment(TranslationIngress).options(user_config=_defaults(IngressSettings))
    return ingress.bind(translator.bind(), postprocessor.bind())


def _deployment(decorated: object) -> Deployment:
    """``@serve.deployment`` made the class a Deployment; type checkers still see the class."""
    return cast(Deployment, decorated)


def _defaults(settings: type[BaseModel]) -> dict:
    return settings().model_dump(exclude_none=True)


app = build_app()
