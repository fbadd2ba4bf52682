import dash


def create_app(settings=None):
    raise NotImplementedError
