#!/usr/bin/env python
import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "iliveit_portal.settings")
    # While `make run` runs, its settings (var/devstack.env) so that commands reach its stack.
    from iliveit_portal.devstack import devstack_env_load

    devstack_env_load()
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
