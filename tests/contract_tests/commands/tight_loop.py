"""A command client that polls its report in a tight loop (no sleep), for ever."""

import json
import os
import sys
import urllib.request

url = f"{os.environ['SW_BASE_URL']}/api/reports/{sys.argv[1]}"
while True:
    request = urllib.request.Request(url, headers={"X-API-Key": os.environ["SW_API_KEY"]})
    with urllib.request.urlopen(request, timeout=10) as response:
        data = json.loads(response.read())["data"]
    if data and data["status"] == "completed":
        print(json.dumps(data))
        sys.exit(0)
