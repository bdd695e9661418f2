"""The emulator's HTTP surface: auth in both styles, request ids, 404s, validation, pagination, files.
Faults, stats, reset and speed: `test_emulator_faults.py`."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from bot.sandbox.emulator.control import EmulatorControl
from bot.sandbox.emulator.server import EmulatorServer

MODEL = "gpt-4o-mini-2024-07-18"
JOB = {"model": MODEL, "training_file": "file-train-demo"}


async def _create(http: httpx.AsyncClient, **extra: Any) -> dict[str, Any]:
    response = await http.post("/fine_tuning/jobs", json={**JOB, **extra})
    assert response.status_code == 200, response.text
    job: dict[str, Any] = response.json()
    return job


# ---- auth and addressing -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "headers", "status"),
    [
        ("/v1/fine_tuning/jobs", {"Authorization": "Bearer sk-emulator"}, 200),
        ("/v1/fine_tuning/jobs", {"Authorization": "Bearer sk-other-key-000"}, 401),
        ("/v1/fine_tuning/jobs", {"api-key": "sk-emulator"}, 401),
        ("/v1/fine_tuning/jobs", {}, 401),
        ("/openai/v1/fine_tuning/jobs", {"api-key": "sk-emulator"}, 200),
        ("/openai/v1/fine_tuning/jobs", {"Authorization": "Bearer sk-emulator"}, 200),
        ("/openai/v1/fine_tuning/jobs", {"api-key": "wrong"}, 401),
        ("/openai/v1/fine_tuning/jobs", {}, 401),
        ("/openai/v1/fine_tuning/jobs?api-version=v1", {"api-key": "sk-emulator"}, 200),
        ("/openai/v1/fine_tuning/jobs?api-version=preview", {"api-key": "sk-emulator"}, 200),
        ("/openai/v1/fine_tuning/jobs?api-version=2024-10-21", {"api-key": "sk-emulator"}, 400),
    ],
)
async def test_auth_styles_and_api_version(
    emulator: EmulatorServer, path: str, headers: dict[str, str], status: int
) -> None:
    async with httpx.AsyncClient(base_url=emulator.url) as http:
        response = await http.get(path, headers=headers)
    assert response.status_code == status, response.text
    request_id_header = "apim-request-id" if path.startswith("/openai/") else "x-request-id"
    assert response.headers[request_id_header]
    if status != 200:
        error = response.json()["error"]
        if path.startswith("/openai/"):
            assert set(error) == {"code", "message", "param", "type", "inner_error"}
            assert error["type"] == "error"
            assert isinstance(error["code"], str)
            if status == 401:
                assert error["code"] == "401"
        else:
            assert set(error) == {"message", "type", "param", "code"}
        assert error["message"]
    if status == 401 and path.startswith("/v1"):
        assert response.json()["error"]["code"] == "invalid_api_key"


async def test_a_custom_key_is_the_only_one_accepted() -> None:
    async with (
        EmulatorServer(api_key="sk-custom-123") as server,
        httpx.AsyncClient(base_url=server.openai_base_url) as http,
    ):
        ok = await http.get("/files", headers={"Authorization": "Bearer sk-custom-123"})
        default = await http.get("/files", headers={"Authorization": "Bearer sk-emulator"})
    assert (ok.status_code, default.status_code) == (200, 401)


async def test_unknown_things_answer_404(emulator_openai_http: httpx.AsyncClient) -> None:
    http = emulator_openai_http
    job = await http.get("/fine_tuning/jobs/ftjob-unknown")
    assert job.status_code == 404
    assert "ftjob-unknown" in job.json()["error"]["message"]
    for path in ("/fine_tuning/jobs/ftjob-unknown/events", "/fine_tuning/jobs/ftjob-unknown/checkpoints"):
        assert (await http.get(path)).status_code == 404
    assert (await http.post("/fine_tuning/jobs/ftjob-unknown/pause")).status_code == 404
    missing_file = await http.get("/files/file-unknown")
    assert missing_file.status_code == 404
    assert missing_file.json()["error"]["message"] == "No such File object: file-unknown"
    route = await http.get("/not_an_endpoint")
    assert route.status_code == 404
    assert route.json()["error"]["message"] == "Invalid URL (GET /v1/not_an_endpoint)"


# ---- create validation ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "param", "needle"),
    [
        ({"training_file": "file-train-demo"}, "model", "Missing required parameter: 'model'"),
        ({"model": MODEL}, "training_file", "Missing required parameter: 'training_file'"),
        ({**JOB, "training_file": "file-nope"}, "training_file", "file-nope"),
        ({**JOB, "validation_file": "file-gone"}, "validation_file", "file-gone"),
        ({**JOB, "suffix": "x" * 65}, "suffix", "1 to 64"),
        ({**JOB, "suffix": ""}, "suffix", "1 to 64"),
        ({**JOB, "seed": -1}, "seed", "2147483647"),
        ({**JOB, "seed": 2_147_483_648}, "seed", "2147483647"),
        ({**JOB, "hyperparameters": {"n_epochs": 0}}, "hyperparameters.n_epochs", "1 to 50"),
        (
            {**JOB, "method": {"type": "supervised", "supervised": {"hyperparameters": {"batch_size": 300}}}},
            "method.supervised.hyperparameters.batch_size",
            "1 to 256",
        ),
        (
            {
                **JOB,
                "method": {
                    "type": "supervised",
                    "supervised": {"hyperparameters": {"learning_rate_multiplier": 0}},
                },
            },
            "method.supervised.hyperparameters.learning_rate_multiplier",
            "greater than 0",
        ),
        (
            {**JOB, "method": {"type": "dpo", "dpo": {"hyperparameters": {"beta": 3}}}},
            "method.dpo.hyperparameters.beta",
            "at most 2",
        ),
        ({**JOB, "method": {"type": "magic"}}, "method.type", "supervised"),
        ({**JOB, "method": {"type": "reinforcement"}}, "method.reinforcement.grader", "grader"),
        ({**JOB, "metadata": {f"k{i}": "v" for i in range(17)}}, "metadata", "16"),
        ({**JOB, "metadata": {"k": "v" * 513}}, "metadata", "512"),
    ],
)
async def test_create_refuses_invalid_bodies_naming_the_parameter(
    emulator_openai_http: httpx.AsyncClient, body: dict[str, Any], param: str, needle: str
) -> None:
    response = await emulator_openai_http.post("/fine_tuning/jobs", json=body)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["param"] == param
    assert error["type"] == "invalid_request_error"
    assert needle in error["message"]


async def test_create_refuses_a_body_that_is_not_json(emulator_openai_http: httpx.AsyncClient) -> None:
    response = await emulator_openai_http.post(
        "/fine_tuning/jobs", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert "could not parse the JSON body" in response.json()["error"]["message"]


async def test_azure_suffix_rules_are_stricter(emulator_azure_http: httpx.AsyncClient) -> None:
    too_long = await emulator_azure_http.post("/fine_tuning/jobs", json={**JOB, "suffix": "x" * 41})
    odd_chars = await emulator_azure_http.post("/fine_tuning/jobs", json={**JOB, "suffix": "a b"})
    assert (too_long.status_code, odd_chars.status_code) == (400, 400)
    assert too_long.json()["error"]["param"] == "suffix"
    ok = await emulator_azure_http.post(
        "/fine_tuning/jobs", json={**JOB, "suffix": "x" * 40, "trainingType": "GlobalStandard"}
    )
    assert ok.status_code == 200, ok.text
    bad_type = await emulator_azure_http.post("/fine_tuning/jobs", json={**JOB, "trainingType": "Cheap"})
    assert bad_type.json()["error"]["param"] == "trainingType"


async def test_dpo_jobs_report_their_resolved_hyperparameters(
    emulator_openai_http: httpx.AsyncClient,
) -> None:
    job = await _create(
        emulator_openai_http, method={"type": "dpo", "dpo": {"hyperparameters": {"beta": 0.2, "n_epochs": 2}}}
    )
    hyper = job["method"]["dpo"]["hyperparameters"]
    assert hyper["beta"] == 0.2 and hyper["n_epochs"] == 2
    assert isinstance(hyper["batch_size"], int) and isinstance(hyper["learning_rate_multiplier"], float)
    assert job["hyperparameters"]["n_epochs"] == 2


# ---- pagination ----------------------------------------------------------------------------------------


async def test_jobs_list_is_newest_first_with_cursor_and_limits(
    emulator_openai_http: httpx.AsyncClient,
) -> None:
    http = emulator_openai_http
    created = [
        (await _create(http, metadata={"n": str(i), "team": "a" if i % 2 else "b"}))["id"] for i in range(25)
    ]
    newest_first = list(reversed(created))
    first = (await http.get("/fine_tuning/jobs")).json()
    assert [j["id"] for j in first["data"]] == newest_first[:20]
    assert first["has_more"] is True
    rest = (await http.get("/fine_tuning/jobs", params={"after": first["data"][-1]["id"]})).json()
    assert [j["id"] for j in rest["data"]] == newest_first[20:]
    assert rest["has_more"] is False
    small = (await http.get("/fine_tuning/jobs", params={"limit": 3, "after": newest_first[5]})).json()
    assert [j["id"] for j in small["data"]] == newest_first[6:9]

    over = await http.get("/fine_tuning/jobs", params={"limit": 101})
    assert over.status_code == 400 and over.json()["error"]["param"] == "limit"
    assert (await http.get("/fine_tuning/jobs", params={"limit": 100})).status_code == 200
    assert (await http.get("/fine_tuning/jobs", params={"limit": 0})).status_code == 400

    team_a = (await http.get("/fine_tuning/jobs", params={"metadata[team]": "a", "limit": 100})).json()
    assert [j["id"] for j in team_a["data"]] == [j for i, j in enumerate(created) if i % 2][::-1]
    both = await http.get("/fine_tuning/jobs", params={"metadata[team]": "a", "metadata[n]": "3"})
    assert [j["id"] for j in both.json()["data"]] == [created[3]]
    plain = await _create(http)
    without = await http.get("/fine_tuning/jobs", params={"metadata": "null"})
    assert [j["id"] for j in without.json()["data"]] == [plain["id"]]


async def test_azure_ignores_the_metadata_filter(emulator_azure_http: httpx.AsyncClient) -> None:
    await _create(emulator_azure_http, metadata={"team": "a"})
    await _create(emulator_azure_http)
    listed = (await emulator_azure_http.get("/fine_tuning/jobs", params={"metadata[team]": "a"})).json()
    assert len(listed["data"]) == 2


async def test_events_and_checkpoints_page_backwards_without_gaps_or_repeats(
    emulator_openai_http: httpx.AsyncClient, emulator_control: EmulatorControl
) -> None:
    http = emulator_openai_http
    job = await _create(http, validation_file="file-valid-demo")
    await emulator_control.advance(2000)
    everything = (await http.get(f"/fine_tuning/jobs/{job['id']}/events", params={"limit": 100})).json()[
        "data"
    ]
    assert len(everything) > 20

    default = (await http.get(f"/fine_tuning/jobs/{job['id']}/events")).json()
    assert len(default["data"]) == 20 and default["has_more"] is True
    walked: list[str] = []
    after: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 7}
        if after:
            params["after"] = after
        page = (await http.get(f"/fine_tuning/jobs/{job['id']}/events", params=params)).json()
        walked += [e["id"] for e in page["data"]]
        if not page["has_more"]:
            break
        after = page["data"][-1]["id"]
    assert walked == [e["id"] for e in everything]

    pages = []
    after = None
    while True:
        params = {"limit": 1, **({"after": after} if after else {})}
        page = (await http.get(f"/fine_tuning/jobs/{job['id']}/checkpoints", params=params)).json()
        assert page["first_id"] == page["last_id"] == page["data"][0]["id"]
        pages.append(page["data"][0]["step_number"])
        if not page["has_more"]:
            break
        after = page["last_id"]
    assert pages == [100, 67, 33]


async def test_event_ids_stay_the_same_as_the_job_moves_on(
    emulator_openai_http: httpx.AsyncClient, emulator_control: EmulatorControl
) -> None:
    http = emulator_openai_http
    job = await _create(http)
    await emulator_control.advance(100)
    before = (await http.get(f"/fine_tuning/jobs/{job['id']}/events", params={"limit": 100})).json()["data"]
    await http.post(f"/fine_tuning/jobs/{job['id']}/pause")
    await http.post(f"/fine_tuning/jobs/{job['id']}/resume")
    await emulator_control.advance(100)
    after = (await http.get(f"/fine_tuning/jobs/{job['id']}/events", params={"limit": 100})).json()["data"]
    assert after[-len(before) :] == before
    older = (
        await http.get(f"/fine_tuning/jobs/{job['id']}/events", params={"after": before[0]["id"]})
    ).json()
    assert older["data"] == after[len(after) - len(before) + 1 :][:20]


# ---- files ---------------------------------------------------------------------------------------------


async def test_files_upload_list_filter_download_delete(emulator_openai_http: httpx.AsyncClient) -> None:
    http = emulator_openai_http
    listed = (await http.get("/files")).json()
    assert {f["id"] for f in listed["data"]} == {"file-train-demo", "file-valid-demo"}
    demo = (await http.get("/files/file-train-demo/content")).content
    assert demo.count(b"\n") == 40

    content = b'{"messages": [{"role": "user", "content": "q"}]}\n'
    uploaded = (
        await http.post("/files", files={"file": ("mine.jsonl", content)}, data={"purpose": "batch"})
    ).json()
    assert uploaded["id"].startswith("file-") and uploaded["status"] == "processed"
    batch_only = (await http.get("/files", params={"purpose": "batch"})).json()
    assert [f["id"] for f in batch_only["data"]] == [uploaded["id"]]
    oldest_first = (await http.get("/files", params={"order": "asc"})).json()
    assert oldest_first["data"][-1]["id"] == uploaded["id"]

    not_for_training = await http.post("/fine_tuning/jobs", json={**JOB, "training_file": uploaded["id"]})
    assert not_for_training.status_code == 400
    assert uploaded["id"] in not_for_training.json()["error"]["message"]

    deleted = await http.delete(f"/files/{uploaded['id']}")
    assert deleted.json() == {"id": uploaded["id"], "object": "file", "deleted": True}
    assert (await http.get(f"/files/{uploaded['id']}")).status_code == 404
    assert (await http.delete(f"/files/{uploaded['id']}")).status_code == 404


async def test_uploads_need_a_file_and_a_known_purpose(emulator_openai_http: httpx.AsyncClient) -> None:
    http = emulator_openai_http
    no_purpose = await http.post("/files", files={"file": ("a.jsonl", b"{}\n")})
    assert no_purpose.status_code == 400 and no_purpose.json()["error"]["param"] == "purpose"
    bad_purpose = await http.post("/files", files={"file": ("a.jsonl", b"{}\n")}, data={"purpose": "fun"})
    assert bad_purpose.status_code == 400
    no_file = await http.post("/files", files={"other": ("a.jsonl", b"{}\n")}, data={"purpose": "fine-tune"})
    assert no_file.status_code == 400 and no_file.json()["error"]["param"] == "file"


async def test_azure_uploads_get_azure_style_ids(emulator_azure_http: httpx.AsyncClient) -> None:
    uploaded = await emulator_azure_http.post(
        "/files", files={"file": ("t.jsonl", b"{}\n")}, data={"purpose": "fine-tune"}
    )
    file_id = uploaded.json()["id"]
    assert len(file_id) == len("file-") + 32
    int(file_id.removeprefix("file-"), 16)
