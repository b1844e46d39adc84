# File name: model_client.py -- the client from Ray's tutorial, unchanged.
import requests

response = requests.post("http://127.0.0.1:8000/", params={"text": "Hello world!"})
french_text = response.json()

print(french_text)
