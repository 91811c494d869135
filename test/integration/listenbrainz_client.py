"""Drives tunestream's ListenBrainz-compatible routes with the real liblistenbrainz client.

Usage: python listenbrainz_client.py '<json list of steps>'
Environment: TUNESTREAM_API (base URL the client is pointed at), TUNESTREAM_TOKEN (the listener's
token), TUNESTREAM_BEARER and TUNESTREAM_USER (read the profile, for the freshness step).
Prints one JSON result per step, as a JSON list.
"""
import json
import os
import sys
import time
import urllib.request

import liblistenbrainz
from liblistenbrainz import client as lb_client
from liblistenbrainz.errors import InvalidAuthTokenException, ListenBrainzAPIException

BASE = os.environ["TUNESTREAM_API"]
# The client's base URL: the constructor argument, and the module constant older versions read.
lb_client.API_BASE_URL = BASE


def make_client(token, check=True):
    client = liblistenbrainz.ListenBrainz(api_base_url=BASE)
    client.set_auth_token(token, check_validity=check)
    return client


def listen(step, at=None):
    return liblistenbrainz.Listen(
        track_name=step["track"],
        artist_name=step["artist"],
        listened_at=at,
        release_name=step.get("release"),
        recording_mbid=step.get("recording_mbid"),
        artist_mbids=step.get("artist_mbids"),
        additional_info={"duration_ms": step["duration_ms"]} if "duration_ms" in step else None,
    )


def plays():
    req = urllib.request.Request(
        f"{BASE}/users/{os.environ['TUNESTREAM_USER']}/profile",
        headers={"authorization": f"Bearer {os.environ['TUNESTREAM_BEARER']}"},
    )
    try:
        with urllib.request.urlopen(req) as res:
            return json.load(res)["counts"]["plays"]
    except urllib.error.HTTPError as e:
        if e.code == 404:
            return 0
        raise


def run(step):
    kind = step["step"]
    token = step.get("token", os.environ["TUNESTREAM_TOKEN"])
    try:
        if kind == "validate":
            make_client(token)
            return {"valid": True}
        client = make_client(token, check=False)
        now = int(time.time())
        if kind == "single":
            return client.submit_single_listen(listen(step, step.get("listened_at", now)))
        if kind == "import":
            return client.submit_multiple_listens(
                [listen({**step, "track": f"{step['track']} {i}"}, now - 60 * (i + 1)) for i in range(step["count"])]
            )
        if kind == "playing_now":
            return client.submit_playing_now(listen(step))
        if kind == "feedback":
            return client.submit_user_feedback(step["score"], step["recording_mbid"])
        if kind == "freshness":
            # Listen submitted → in the profile (plays counted), seconds per listen.
            latencies = []
            expected = plays()
            for i in range(step["count"]):
                t0 = time.perf_counter()
                client.submit_single_listen(listen({**step, "track": f"{step['track']} {i}"}, now - i))
                expected += 1
                while plays() < expected:
                    if time.perf_counter() - t0 > 30:
                        raise RuntimeError("listen did not reach the profile within 30 s")
                    time.sleep(0.01)
                latencies.append(time.perf_counter() - t0)
            return {"latencies": latencies}
        raise ValueError(f"unknown step {kind}")
    except InvalidAuthTokenException:
        return {"error": "InvalidAuthTokenException"}
    except ListenBrainzAPIException as e:
        return {"error": "ListenBrainzAPIException", "status_code": e.status_code, "message": e.message}


if __name__ == "__main__":
    print(json.dumps([run(s) for s in json.loads(sys.argv[1])]))
