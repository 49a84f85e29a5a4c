//! ITSM CSV import edge cases, through the same use case the CLI calls.

use std::sync::Arc;

use opsdesk::config::Settings;
use opsdesk::service::Desk;
use opsdesk::service::import::{ImportError, RowOutcome};
use opsdesk::store::Store;

const HEADER: &str = "external_ref,title,description,system,created_at,customer_account";
const ROW: &str = "ITSM-1,委托下单提示资金不足,客户 310012345678 今天 10:05 买入 600519 提示可用资金不足，实际可用 5 万元,交易,2026-11-20 09:30,310012345678";

fn desk(dir: &std::path::Path) -> Desk {
    Desk::new(Store::open(dir).unwrap(), Arc::new(Settings::default()))
}

#[tokio::test]
async fn a_gbk_file_from_excel_imports_like_utf8() {
    let tmp = tempfile::tempdir().unwrap();
    let text = format!("{HEADER}\n{ROW}\n");
    let (gbk, _, lossy) = encoding_rs::GBK.encode(&text);
    assert!(!lossy);
    assert!(
        std::str::from_utf8(&gbk).is_err(),
        "the fixture really is GBK"
    );
    let outcomes = desk(tmp.path()).import_itsm_csv(&gbk).await.unwrap();
    assert!(
        matches!(outcomes.as_slice(), [RowOutcome::Imported { .. }]),
        "{outcomes:?}"
    );
}

#[tokio::test]
async fn undecodable_bytes_duplicate_columns_and_future_times_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let d = desk(tmp.path());
    let binary = [0xFFu8, 0xFE, 0x00, 0x81, 0x30, 0xFF];
    assert!(matches!(
        d.import_itsm_csv(&binary).await,
        Err(ImportError::Encoding)
    ));

    let twice = format!("{HEADER},title\n{ROW},再来一个标题\n");
    let err = d.import_itsm_csv(twice.as_bytes()).await.unwrap_err();
    assert_eq!(err.to_string(), "column 'title' appears twice");

    let future = format!(
        "{HEADER}\n{}\n",
        ROW.replace("2026-11-20 09:30", "2999-01-01 09:00")
    );
    let outcomes = d.import_itsm_csv(future.as_bytes()).await.unwrap();
    match outcomes.as_slice() {
        [RowOutcome::Refused { reason, .. }] => assert!(reason.contains("future"), "{reason}"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn account_and_phone_numbers_with_spaces_and_dashes_import() {
    let tmp = tempfile::tempdir().unwrap();
    let d = desk(tmp.path());
    let text = format!(
        "{HEADER},customer_phone\n{}\n",
        ROW.replace(",310012345678", ",3100-1234-5678,138 1234 1234")
    );
    let outcomes = d.import_itsm_csv(text.as_bytes()).await.unwrap();
    let [RowOutcome::Imported { ticket, .. }] = outcomes.as_slice() else {
        panic!("{outcomes:?}")
    };
    let t = d
        .store
        .read({
            let id = *ticket;
            move |c| opsdesk::store::tickets::get(c, id)
        })
        .await
        .unwrap()
        .unwrap();
    assert_eq!(t.customer.account.unwrap().expose(), "310012345678");
    assert_eq!(t.customer.phone.unwrap().expose(), "13812341234");
}
