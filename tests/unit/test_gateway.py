"""With a gateway, the app gets a Gateway (HTTPS on its host name with the stack's certificate,
HTTP redirected), and the strategy's route: one backend, the live color, or stable and canary by
exact weight, with header rules; under Pulumi mocks. The certificate is checked for real."""

from __future__ import annotations

import datetime
import ssl
from typing import Any

import pytest
from cryptography import x509

from components import BlueGreen, Canary, GatewayArgs, HelloApp, HelloAppArgs, InvalidArgsError
from components.certificate import CertificateProvider, renewal_due
from tests.unit.manifests import dependencies

ON = GatewayArgs(enabled=True)


@pytest.fixture
def render_app(render):
    def _render(args: HelloAppArgs):
        return render(
            lambda: {**(app := HelloApp("hello", args)).strategy_outputs, **app.gateway_outputs}
        )

    return _render


def rules(route: dict[str, Any]) -> list[tuple[list[Any], list[tuple[str, int]]]]:
    """Each rule's header matches and its (backend, weight) pairs."""
    return [
        (
            [match.get("headers", []) for match in rule["matches"]],
            [(ref["name"], ref["weight"]) for ref in rule["backendRefs"]],
        )
        for rule in route["spec"]["rules"]
    ]


def test_the_gateway_serves_https_on_the_host_name_and_redirects_http(render_app):
    rendered = render_app(HelloAppArgs(gateway=GatewayArgs(enabled=True, hostname="a.b.test")))

    gateway = rendered.object("Gateway", "hello-gateway")
    assert gateway["spec"]["gatewayClassName"] == "traefik"
    http, https = gateway["spec"]["listeners"]
    assert (http["protocol"], http["port"], http["hostname"]) == ("HTTP", 8000, "a.b.test")
    assert (https["protocol"], https["port"], https["hostname"]) == ("HTTPS", 8443, "a.b.test")
    assert https["tls"]["certificateRefs"] == [{"name": "hello-svc-tls"}]
    assert gateway["metadata"]["annotations"]["pulumi.com/waitFor"] == "condition=Programmed"
    redirect = rendered.object("HTTPRoute", "hello-redirect")
    assert redirect["spec"]["parentRefs"] == [{"name": "hello-svc", "sectionName": "http"}]
    assert redirect["spec"]["rules"][0]["filters"][0]["requestRedirect"] == {
        "scheme": "https",
        "port": 30443,
        "statusCode": 301,
    }
    route = rendered.object("HTTPRoute", "hello-route")
    assert route["spec"]["parentRefs"] == [{"name": "hello-svc", "sectionName": "https"}]
    assert route["spec"]["hostnames"] == ["a.b.test"]
    assert route["spec"]["rules"][0]["matches"][0]["path"] == {
        "type": "PathPrefix",
        "value": "/api",
    }
    assert rules(route) == [([[]], [("hello-svc", 1)])]
    assert rendered.result["gateway_url"] == "https://a.b.test:30443/api"


def test_without_a_gateway_there_is_no_gateway_object(render_app):
    rendered = render_app(HelloAppArgs())

    kinds = {resource.inputs["kind"] for resource in rendered.kubernetes_objects()}
    assert kinds == {"Namespace", "ServiceAccount", "Deployment", "Service"}
    assert "gateway_url" not in rendered.result


def test_the_tls_secret_holds_the_certificate_and_its_key_as_secrets(render_app, mocks):
    rendered = render_app(HelloAppArgs(gateway=ON))

    secret = rendered.object("Secret", "hello-tls")
    assert secret["type"] == "kubernetes.io/tls"
    # Sent to the provider sealed as a secret, as a whole (pulumi's secret signature).
    assert secret["stringData"]["4dabf18193072939515e22adb298388d"] == (
        "1b47061264138c4ac30d75fd1eb44270"
    )
    certificate = mocks.requests["pulumi-python:dynamic/demo-orq:ServingCertificate",
                                 "hello-certificate"]  # fmt: skip
    assert set(certificate.additionalSecretOutputs) == {"private_key", "ca_private_key"}


def test_a_canary_splits_requests_at_the_route_by_exact_weight_and_by_header(render_app):
    rendered = render_app(HelloAppArgs(replicas=3, gateway=ON, strategy=Canary(weight=10)))

    route = rendered.object("HTTPRoute", "hello-route")
    assert rules(route) == [
        ([[{"name": "X-Canary", "value": "always"}]], [("hello-svc-canary", 1)]),
        ([[{"name": "X-Canary", "value": "never"}]], [("hello-svc-stable", 1)]),
        ([[]], [("hello-svc-stable", 90), ("hello-svc-canary", 10)]),
    ]
    stable = rendered.object("Deployment", "hello")
    assert stable["spec"]["replicas"] == 3  # its full count until a promotion
    assert stable["spec"]["selector"]["matchLabels"] == {"app": "hello-api"}
    assert stable["spec"]["template"]["metadata"]["labels"]["track"] == "stable"
    assert rendered.object("Deployment", "hello-canary")["spec"]["replicas"] == 1
    stable_service = rendered.object("Service", "hello-stable")
    assert stable_service["spec"]["selector"] == {"app": "hello-api", "track": "stable"}
    assert rendered.result["canary_effective_weight"] == 10.0
    assert rendered.result["canary_split"].startswith("route: 10%")


def test_a_route_leaves_out_a_side_at_weight_0(render_app):
    rendered = render_app(HelloAppArgs(gateway=ON, strategy=Canary(weight=0)))

    assert rules(rendered.object("HTTPRoute", "hello-route"))[-1] == (
        [[]],
        [("hello-svc-stable", 100)],
    )


def test_without_a_gateway_the_canary_split_says_it_is_by_pods(render_app):
    rendered = render_app(HelloAppArgs(replicas=3, strategy=Canary(weight=10)))

    assert rendered.result["canary_effective_weight"] == 33.3
    assert "no gateway" in rendered.result["canary_split"]
    assert rendered.object("Deployment", "hello")["spec"]["replicas"] == 2


def test_the_route_waits_for_new_canary_pods_and_lets_go_of_them_before_they_stop(
    render_app, mocks
):
    render_app(HelloAppArgs(gateway=ON, strategy=Canary(weight=50)))
    assert "Deployment/hello-canary" in dependencies(mocks, "HTTPRoute", "hello-route")
    assert "HTTPRoute/hello-route" not in dependencies(mocks, "Deployment", "hello-canary")

    mocks.requests.clear()
    render_app(HelloAppArgs(gateway=ON, strategy=Canary(weight=0)))
    assert "HTTPRoute/hello-route" in dependencies(mocks, "Deployment", "hello-canary")
    assert "Deployment/hello-canary" not in dependencies(mocks, "HTTPRoute", "hello-route")


def test_blue_green_switches_at_the_route_between_fixed_color_services(render_app, mocks):
    rendered = render_app(HelloAppArgs(gateway=ON, strategy=BlueGreen(live_color="green")))

    for color in ("blue", "green"):
        service = rendered.object("Service", f"hello-{color}")
        assert service["spec"]["selector"] == {"app": "hello-api", "color": color}
        assert service["spec"]["type"] == "ClusterIP"
    assert rules(rendered.object("HTTPRoute", "hello-route")) == [
        ([[{"name": "X-Preview", "value": "true"}]], [("hello-svc-blue", 1)]),
        ([[]], [("hello-svc-green", 1)]),
    ]
    assert "AnalysisGate/hello-gate" in dependencies(mocks, "HTTPRoute", "hello-route")


@pytest.mark.parametrize(
    ("field", "value"),
    [("hostname", "localhost"), ("hostname", "Hello.Test"), ("hostname", "1.2.3.4"),
     ("port", 0), ("class_name", "Traefik")],
)  # fmt: skip
def test_a_bad_gateway_setting_is_refused_naming_it(field, value):
    with pytest.raises(InvalidArgsError, match=field):
        GatewayArgs(**{field: value})


def issued(hostname: str = "hello.demo-orq.localhost") -> dict[str, Any]:
    return CertificateProvider().create({"hostname": hostname, "ca_name": "test CA"}).outs


def test_the_certificate_is_for_the_host_name_and_signed_by_the_stacks_ca(tmp_path):
    outs = issued()

    ca_file = tmp_path / "ca.pem"
    ca_file.write_text(outs["ca_certificate"])
    context = ssl.create_default_context(cafile=str(ca_file))
    certificate = x509.load_pem_x509_certificate(outs["certificate"].encode())
    names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    assert names.value.get_values_for_type(x509.DNSName) == ["hello.demo-orq.localhost"]
    certificate.verify_directly_issued_by(
        x509.load_pem_x509_certificate(outs["ca_certificate"].encode())
    )
    assert context.cert_store_stats()["x509_ca"] == 1
    assert "PRIVATE KEY" in outs["private_key"]


def test_a_certificate_is_renewed_within_30_days_of_its_end_with_the_same_ca():
    provider = CertificateProvider()
    outs = issued()
    news = {"hostname": outs["hostname"], "ca_name": "test CA"}
    assert not provider.diff("certificate", outs, news).changes

    soon = datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=29)
    assert renewal_due(soon.isoformat())
    old = {**outs, "not_after": soon.isoformat()}
    assert provider.diff("certificate", old, news).changes
    renewed = provider.update("certificate", old, news).outs
    assert renewed["ca_certificate"] == outs["ca_certificate"]
    assert renewed["certificate"] != outs["certificate"]
    assert not renewal_due(renewed["not_after"])


def test_a_new_host_name_gets_a_new_certificate_from_the_same_ca():
    provider = CertificateProvider()
    outs = issued()
    news = {"hostname": "other.demo-orq.localhost", "ca_name": "test CA"}
    assert provider.diff("certificate", outs, news).changes
    renewed = provider.update("certificate", outs, news).outs
    assert renewed["ca_certificate"] == outs["ca_certificate"]
    assert (
        "other.demo-orq.localhost"
        in x509.load_pem_x509_certificate(renewed["certificate"].encode()).subject.rfc4514_string()
    )
