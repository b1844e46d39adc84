"""The translation graph: ingress -> Translator -> postprocessor, wired and nothing else.

``serve run graph.app:app`` runs it with the code defaults (t5-small from the hub);
``serve run configs/local.yaml`` runs it as configured. Sizing lives in configs/*.yaml.
"""

from ray.serve import Application

from deployments.ingress import TranslationIngress
from deployments.postprocessor import Postprocessor
from deployments.settings import IngressSettings, PostprocessorSettings, TranslatorSettings
from deployments.translator import Translator

APP_NAME = "translation"


def build_app() -> Application:
    # Every deployment gets its user_config here, so reconfigure() always runs: without a
    # config file the defaults apply, with one the file's values replace them.
    translator = Translator.options(user_config=TranslatorSettings().model_dump()).bind()
    postprocessor = Postprocessor.options(user_config=PostprocessorSettings().model_dump()).bind()
    return TranslationIngress.options(user_config=IngressSettings().model_dump()).bind(
        translator, postprocessor
    )


app = build_app()
