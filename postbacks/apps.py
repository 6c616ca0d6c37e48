from django.apps import AppConfig


class PostbacksConfig(AppConfig):
    name = "postbacks"
    verbose_name = "Postbacks"

    def ready(self) -> None:
        from postbacks import receivers

        receivers.connect()
