#!/usr/bin/env python3
"""An independent, WSDL-driven SOAP client for the UWLR 2.2 BrengLeerresultaten operation.

Everything about the message shape (element names, namespaces, order, SOAP header, SOAPAction)
comes from the official WSDL and the XSDs it imports, via `zeep`; this script only fills in
values. It sends one leerresultaten_verzoek with one toetsafname (two resultaten) and one toets.

Exit codes: 0 = the expected outcome (a bevestiging, or the fault named by --expect-fault),
1 = another outcome (a fault, or a bevestiging while a fault was expected), 2 = any other error.
"""
import argparse
import datetime
import sys

import zeep
from zeep.wsdl.utils import etree_to_string

NS_LR = "http://www.edustandaard.nl/leerresultaten/2/leerresultaten"
NS_AUT = "http://www.edustandaard.nl/leerresultaten/2/autorisatie"
NS_SOAP = "http://schemas.xmlsoap.org/soap/envelope/"


class LastReply(zeep.Plugin):
    """Keeps the last reply envelope, so we can check it really is a bevestiging."""

    envelope = None

    def ingress(self, envelope, http_headers, operation):
        self.envelope = envelope
        return envelope, http_headers


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--wsdl", required=True, help="path to UWLR_Leerresultaten_v2p2.wsdl")
    p.add_argument("--url", required=True, help="endpoint address (replaces the WSDL's)")
    p.add_argument("--sleutel", required=True, help="autorisatiesleutel")
    p.add_argument("--klantcode", required=True)
    p.add_argument("--klantnaam", required=True)
    p.add_argument("--brin", required=True)
    p.add_argument("--dependance", default="00")
    p.add_argument("--leerlingid", required=True)
    p.add_argument("--toetscode", default="BOOM-LVS-RW-2019")
    p.add_argument("--versie", default="2019")
    p.add_argument("--onderdeel", default="G3")
    p.add_argument("--expect-fault", metavar="CODE", help="e.g. Client.AutorisatieOngeldig")
    p.add_argument("--print-only", action="store_true",
                   help="print the rendered request envelope and do not send it")
    return p.parse_args()


def build(client, a):
    """The operation's keyword arguments: the verzoek's children plus the SOAP header."""
    # The header element as declared in the autorisatie XSD (the binding's msgpHeader part).
    autorisatie = client.get_element(f"{{{NS_AUT}}}autorisatie")
    header = autorisatie(autorisatiesleutel=a.sleutel, klantcode=a.klantcode,
                         klantnaam=a.klantnaam)

    # osoresultaat holds oso:toetsscore / oso:referentiescore (refs into the OSO namespace);
    # zeep resolves those refs, so plain dicts with the local names are enough.
    def resultaat(key, afnamedatum, score, dle):
        return {
            "key": key,
            "afnamedatum": afnamedatum,
            "toetscode": a.toetscode,
            "versie": a.versie,  # ctpVocabulaireGebondenVeld: simple content, no attributes
            "toetsonderdeelcode": a.onderdeel,
            # The XSD's xs:choice (score | osoresultaat | anderresultaat): we take osoresultaat.
            "osoresultaat": {
                "toetsscore": {"aantalgoed": score},
                "referentiescore": [{
                    "codereferentiescore": "DLE",
                    "codevergelijkingsgroep": "Landelijk",
                    "waarde": str(dle),
                }],
            },
        }

    body = {
        "school": {
            "schooljaar": "2026-2027",
            # gSchoolIdentificatie is a choice (brincode+dependancecode | schoolkey).
            "brincode": a.brin,
            "dependancecode": a.dependance,
            # The XSD types aanmaakdatum as xs:dateTime (not xs:date): today, at the current time.
            "aanmaakdatum": datetime.datetime.now().replace(microsecond=0),
            "auteur": "zeep",
            "xsdversie": "2.2",
        },
        "toetsafnames": {"toetsafname": [{
            "leerlingid": a.leerlingid,
            "resultaten": {"resultaat": [
                resultaat("Z1", datetime.date(2026, 11, 2), 21, 7),
                resultaat("Z2", datetime.date(2026, 11, 3), 25, 9),
            ]},
        }]},
        "toetsen": {"toets": [{
            "toetscode": a.toetscode,
            "versie": a.versie,
            "toetsnaam": "LVS Rekenen-Wiskunde 2019",
            "vakgebied": "Rekenen-wiskunde",
            "toetsonderdelen": {"toetsonderdeel": [{
                "toetsonderdeelvolgnummer": 1,
                "toetsonderdeelcode": a.onderdeel,
            }]},
        }]},
    }
    return body, [header]


def main():
    a = parse_args()
    try:
        reply = LastReply()
        client = zeep.Client(a.wsdl, settings=zeep.Settings(strict=True), plugins=[reply])
        # Bind to the WSDL's own binding, but at our address instead of its placeholder
        # (the WSDL's soap:address is http://localhost:8080/NOTDEFINEDYET).
        service = client.create_service(f"{{{NS_LR}}}bndLeerresultaten", a.url)
        body, headers = build(client, a)
        if a.print_only:
            env = client.create_message(service, "BrengLeerresultaten",
                                        _soapheaders=headers, **body)
            # Exactly the bytes zeep would POST (same serialisation as its transport).
            sys.stdout.write(etree_to_string(env).decode("utf-8") + "\n")
            return 0
        # The output part is an empty leerresultaten_bevestiging (ctpLeeg), so zeep returns
        # None, and it does not complain about an unrelated Body either: check it ourselves.
        service.BrengLeerresultaten(_soapheaders=headers, **body)
        answer = reply.envelope.find(f"{{{NS_SOAP}}}Body") if reply.envelope is not None else None
        tags = [child.tag for child in answer] if answer is not None else []
        if tags != [f"{{{NS_LR}}}leerresultaten_bevestiging"]:
            print(f"error: no leerresultaten_bevestiging in the answer, Body holds {tags}")
            return 2
    except zeep.exceptions.Fault as f:
        # zeep gives the faultcode as text, e.g. "soap:Client.AutorisatieOngeldig".
        code = str(f.code or "").split(":", 1)[-1]
        print(f"fault {code} {f.message}")
        return 0 if a.expect_fault == code else 1
    except Exception as e:  # transport errors, unexpected answers, WSDL problems
        print(f"error {type(e).__name__}: {e}")
        return 2
    print("bevestiging")
    if a.expect_fault:
        print(f"expected fault {a.expect_fault}, got a bevestiging")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
