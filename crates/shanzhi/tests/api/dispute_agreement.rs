//! The mediation agreement (调解协议书) through HTTP: the JSON for the printable page and the
//! .docx, masked for every reader; revealed for signature only to the holding centre and the
//! assigned mediator, with a purpose, and audited.

use std::io::{Cursor, Read};

use reqwest::StatusCode;
use serde_json::{json, Value};
use shanzhi_domain::user::Role;

use crate::dispute::{act_ok, add_mediator, session, take_in};
use crate::helpers::{Session, TestApp};

/// word/document.xml of a .docx.
fn document_xml(bytes: &[u8]) -> String {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).expect("a .docx is a zip package");
    let mut xml = String::new();
    zip.by_name("word/document.xml")
        .expect("word/document.xml")
        .read_to_string(&mut xml)
        .expect("UTF-8");
    xml
}

/// A case at the village 441502001001 taken in by the grid worker, accepted by the village
/// centre, assigned to `mediator`'s pool record, with a session and an agreement of two terms.
async fn agreed_case(app: &TestApp, centre: &Session, worker: &Session, mediator: &Session) -> i64 {
    let mid = add_mediator(
        app,
        centre,
        "441502001001",
        "调解员陈明",
        &["neighbours"],
        Some(mediator.user_id),
    )
    .await;
    let id = take_in(app, worker, "441502001001001", "neighbours").await;
    act_ok(app, centre, id, json!({"action": "accept"})).await;
    act_ok(
        app,
        centre,
        id,
        json!({"action": "assign", "mediator_id": mid}),
    )
    .await;
    session(app, mediator, id).await;
    act_ok(
        app,
        mediator,
        id,
        json!({"action": "record_outcome", "outcome": "agreement",
               "terms": "1. 李大华于本月底前修好漏水的水管\n2. 王小明的装修损失由李大华赔偿800元"}),
    )
    .await;
    id
}

db_test!(
    the_agreement_holds_the_numbered_terms_and_masks_the_ids_until_a_centre_reveals_them_with_a_purpose,
    |app| {
        let cast = app.seed_loop().await;
        let mediator = app
            .user("ag-mediator", Role::Mediator, Some("441502001000"))
            .await;
        let id = agreed_case(&app, &cast.dispatcher, &cast.worker, &mediator).await;
        let path = format!("/api/v1/disputes/{id}/agreement");

        // The mediator reads it masked: names in full, ID numbers masked, terms numbered once.
        let a = app.get_json(&path, &mediator).await;
        assert_eq!(a["terms"], json!(["李大华于本月底前修好漏水的水管", "王小明的装修损失由李大华赔偿800元"]));
        assert_eq!(a["parties"][0]["name"], "王小明");
        assert_eq!(a["parties"][0]["role"], "applicant");
        let masked = a["parties"][0]["id_number"].as_str().unwrap().to_owned();
        assert!(masked.contains('*'), "{masked}");
        assert_eq!(a["mediators"], json!(["调解员陈明"]));
        assert_eq!(a["can_reveal"], true);
        assert_eq!(a["revealed"], false);

        // The .docx opens and holds the terms, the names and the masked number only.
        let r = app.get(&format!("{path}.docx"), Some(&mediator)).await;
        assert_eq!(r.status(), StatusCode::OK);
        assert!(r.headers()["content-type"].to_str().unwrap().contains("wordprocessingml"));
        let xml = document_xml(&r.bytes().await.unwrap());
        assert!(xml.contains("1. 李大华于本月底前修好漏水的水管"));
        assert!(xml.contains("2. 王小明的装修损失由李大华赔偿800元"));
        assert!(xml.contains("王小明") && xml.contains("李大华"));
        assert!(xml.contains(&masked));

        // For signature, with a purpose: the full number, in the JSON and in the .docx, audited.
        let q = "?purpose=%E5%BD%93%E4%BA%8B%E4%BA%BA%E7%AD%BE%E5%AD%97";
        let full = app.get_json(&format!("{path}{q}"), &mediator).await;
        let number = full["parties"][0]["id_number"].as_str().unwrap().to_owned();
        assert_eq!(number.len(), 18, "{number}");
        assert!(!number.contains('*'));
        assert_eq!(full["revealed"], true);
        let r = app.get(&format!("{path}.docx{q}"), Some(&cast.dispatcher)).await;
        assert_eq!(r.status(), StatusCode::OK);
        assert!(document_xml(&r.bytes().await.unwrap()).contains(&number));
        let admin = app.user("ag-admin", Role::Admin, Some("440000000000")).await;
        let audit: Value = app
            .get_json(&format!("/api/v1/audit?entity=dispute&entity_id={id}"), &admin)
            .await;
        let reveals: Vec<&Value> = audit["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["action"] == "dispute.reveal")
            .collect();
        assert_eq!(reveals.len(), 2, "{audit}");
        assert!(!audit.to_string().contains(&number), "the audit log never holds the number");
        // An administrator of the town reads the case's audit rows too; one of another
        // village's subtree does not.
        let q = format!("/api/v1/audit?entity=dispute&entity_id={id}");
        let town = app.user("ag-town-admin", Role::Admin, Some("441502001000")).await;
        let seen = app.get_json(&q, &town).await;
        assert_eq!(seen["items"], audit["items"], "{seen}");
        let other = app.user("ag-other-admin", Role::Admin, Some("441502001002")).await;
        assert_eq!(app.get_json(&q, &other).await["items"], json!([]));
    }
);

db_test!(
    readers_who_are_not_the_centre_or_the_mediator_see_masked_names_and_may_not_reveal,
    |app| {
        let cast = app.seed_loop().await;
        let mediator = app
            .user("ag-mediator2", Role::Mediator, Some("441502001000"))
            .await;
        let id = agreed_case(&app, &cast.dispatcher, &cast.worker, &mediator).await;
        let path = format!("/api/v1/disputes/{id}/agreement");
        let leader = app
            .user("ag-leader", Role::Leader, Some("441502000000"))
            .await;
        let a = app.get_json(&path, &leader).await;
        assert_eq!(a["parties"][0]["name"], "王*");
        assert_eq!(a["can_reveal"], false);
        let r = app
            .get(&format!("{path}?purpose=look"), Some(&leader))
            .await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        let r = app
            .get(&format!("{path}.docx?purpose=look"), Some(&leader))
            .await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        // Out of scope: not found; another mediator: not found.
        let other = app
            .user("ag-other", Role::Mediator, Some("441502001000"))
            .await;
        assert_eq!(
            app.get(&path, Some(&other)).await.status(),
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            app.get(&path, Some(&cast.other_dispatcher)).await.status(),
            StatusCode::NOT_FOUND
        );
        // A blank purpose is refused as input.
        let r = app
            .get(&format!("{path}?purpose=%20"), Some(&mediator))
            .await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    }
);

db_test!(
    a_case_without_an_agreement_has_no_agreement_to_print,
    |app| {
        let cast = app.seed_loop().await;
        let id = take_in(&app, &cast.worker, "441502001001001", "neighbours").await;
        let r = app
            .get(
                &format!("/api/v1/disputes/{id}/agreement"),
                Some(&cast.dispatcher),
            )
            .await;
        assert_eq!(r.status(), StatusCode::CONFLICT);
        let r = app
            .get(
                &format!("/api/v1/disputes/{id}/agreement.docx"),
                Some(&cast.dispatcher),
            )
            .await;
        assert_eq!(r.status(), StatusCode::CONFLICT);
    }
);
