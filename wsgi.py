from consultroom import create_app

app = create_app()
