"""The campaign's evening mix for the load test (run by ``bench/loadtest.py``).

Weights follow who is out there: grid workers submitting inspections (some with a
hazard and its photo), town officers working their lists, command staff refreshing
the dashboard, citizens filing reports. The logins come from the JSON file named by
``BIHUAN_LOADTEST_USERS`` (written by loadtest.py, which sets their passwords on the
bench database).
"""

from __future__ import annotations

import io
import itertools
import json
import os
import random
import re
import threading
import uuid

from locust import HttpUser, between, task

CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
ITEM = re.compile(r'name="r-([^"]+)"')
HAZARD_LINK = re.compile(r'href="(/hazards/\d+/)"')

with open(os.environ["BIHUAN_LOADTEST_USERS"], encoding="utf-8") as _f:
    USERS = json.load(_f)
_lock = threading.Lock()
_next = {kind: itertools.cycle(USERS[kind]) for kind in ("grid_workers", "officers", "commanders")}


def _take(kind: str) -> dict[str, object]:
    with _lock:
        return next(_next[kind])  # type: ignore[no-any-return]


def _photo(seed: int) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (640, 480), (seed % 256, 90, 140)).save(buffer, "JPEG", quality=80)
    return buffer.getvalue()


PHOTOS = [_photo(i) for i in range(4)]


class _LoggedIn(HttpUser):
    abstract = True
    kind = ""

    def on_start(self) -> None:
        self.me = _take(self.kind)
        page = self.client.get("/accounts/login/", name="login page")
        token = CSRF.search(page.text).group(1)  # type: ignore[union-attr]
        self.client.post("/accounts/login/", name="login", data={
            "csrfmiddlewaretoken": token, "username": self.me["username"],
            "password": USERS["password"],
        }, headers={"Referer": self.host + "/accounts/login/"})


class GridWorker(_LoggedIn):
    weight = 60
    kind = "grid_workers"
    wait_time = between(2, 6)

    @task
    def inspect(self) -> None:
        place, checklist = self.me["place_id"], self.me["checklist_id"]
        self.client.get(f"/inspections/places/{place}/start/", name="field: place start")
        path = f"/inspections/places/{place}/walk/{checklist}/"
        page = self.client.get(path, name="field: checklist walk")
        found = CSRF.search(page.text)
        if not found:
            return
        items = sorted(set(ITEM.findall(page.text)))
        data = {"csrfmiddlewaretoken": found.group(1), "client_key": str(uuid.uuid4()),
                "signed_by_name": "压测"}
        files = None
        if items and random.random() < 0.25:
            code = random.choice(items)
            data[f"r-{code}"] = "fail"
            data[f"detail-{code}"] = "负载测试发现的隐患"
            files = {f"before-{code}": ("before.jpg", random.choice(PHOTOS), "image/jpeg")}
        with self.client.post(path, data=data, files=files, name="field: submit inspection",
                              headers={"Referer": self.host + path}, allow_redirects=False,
                              catch_response=True) as reply:
            if reply.status_code == 302 and "/notice/" in reply.headers.get("Location", ""):
                reply.success()
            else:
                reply.failure(f"submission answered {reply.status_code}")


class TownOfficer(_LoggedIn):
    weight = 20
    kind = "officers"
    wait_time = between(3, 8)

    @task(3)
    def work_the_list(self) -> None:
        page = self.client.get("/hazards/?state=pending_verification", name="office: hazard list")
        links = HAZARD_LINK.findall(page.text)
        if links:
            self.client.get(random.choice(links), name="office: hazard detail")

    @task(1)
    def overdue(self) -> None:
        self.client.get("/hazards/?overdue=true", name="office: overdue list")


class Commander(_LoggedIn):
    weight = 10
    kind = "commanders"
    wait_time = between(5, 15)

    @task
    def dashboard(self) -> None:
        self.client.get("/dashboard/", name="command: dashboard")


class Citizen(HttpUser):
    weight = 10
    wait_time = between(5, 20)

    @task(3)
    def open_form(self) -> None:
        self.client.get("/report/", name="citizen: report form")

    @task(1)
    def report(self) -> None:
        page = self.client.get("/report/", name="citizen: report form")
        found = CSRF.search(page.text)
        if not found:
            return
        town = random.choice(USERS["towns"])
        with self.client.post("/report/", name="citizen: file report", data={
            "csrfmiddlewaretoken": found.group(1),
            "description": "楼道里有电动车充电，堵住了安全出口",
            "town": town, "place_description": "负载测试 某小区 3 幢",
        }, headers={"Referer": self.host + "/report/"}, allow_redirects=False,
                catch_response=True) as reply:
            if reply.status_code in (200, 302):
                reply.success()
            else:
                reply.failure(f"report answered {reply.status_code}")
