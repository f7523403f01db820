//! Chat functions: an application's runtime is made once with defaults and changed under a lock;
//! functions are one per trigger and application; versions are numbered 1, 2, 3… even when
//! deployed at the same time; invocations end once and are paged newest first; and nothing is
//! seen from another application.

use palaver_domain::platform::functions::{
    Dependencies, FunctionTrigger, InstallState, InvocationStatus, RuntimeVersion,
};
use palaver_store::platform::{
    Functions, InvocationEnd, Invocations, NewFunctionRow, NewInvocation, Runtimes,
};
use palaver_store::{Db, StoreError};
use serde_json::json;

use crate::support::{application, contract};

contract!(
    a_runtime_is_made_once_with_defaults_and_saved_under_its_lock,
    functions_are_one_per_trigger_and_application,
    versions_are_numbered_in_order_under_concurrent_deployments,
    invocations_end_once_and_page_newest_first,
);

fn function(app: i64, trigger: FunctionTrigger) -> NewFunctionRow {
    NewFunctionRow {
        application_id: app,
        trigger,
        name: format!("on {trigger}"),
        description: None,
        initialize_asynchronously: false,
        created: 10,
    }
}

async fn insert_function(db: &Db, f: &NewFunctionRow) -> Result<i64, StoreError> {
    let mut tx = db.begin().await?;
    let row = Functions::insert_in(&mut tx, f).await?;
    tx.commit().await?;
    Ok(row.id)
}

async fn a_runtime_is_made_once_with_defaults_and_saved_under_its_lock(db: Db) {
    let app = application(&db, "o1").await;
    let other = application(&db, "o2").await;
    let runtimes = Runtimes::new(db.clone());
    assert!(runtimes.get(app).await.unwrap().is_none());

    let (a, b) = tokio::join!(
        runtimes.ensure(app, 5, "none"),
        runtimes.ensure(app, 6, "none")
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.id, b.id, "concurrent first reads make one runtime");
    assert_eq!(a.version, RuntimeVersion::INITIAL);
    assert!(a.dependencies.as_slice().is_empty());
    assert_eq!(a.environment_variables, "none", "the text it was made with");
    assert_eq!(a.initialization_script, None);
    assert_eq!(a.installation.state, InstallState::Installed);
    assert_eq!(
        a.installation.installed_version,
        Some(RuntimeVersion::INITIAL)
    );
    let theirs = runtimes.ensure(other, 7, "none").await.unwrap();
    assert_ne!(theirs.id, a.id);

    let mut tx = db.begin().await.unwrap();
    let mut locked = Runtimes::lock_in(&mut tx, app).await.unwrap().unwrap();
    locked.version = locked.version.next_patch();
    locked.dependencies = Dependencies::from_body(
        &json!([{"name": "lodash", "version": "4.17.21", "default_dependency": false}]),
    )
    .unwrap();
    locked.initialization_script = Some("module.exports = {}".into());
    // The store keeps the variables' text as given (the service seals it).
    locked.environment_variables = "v1:sealed".into();
    locked.installation = locked.installation.pending(locked.version);
    locked.updated = 20;
    assert!(Runtimes::save_in(&mut tx, &locked).await.unwrap());
    tx.commit().await.unwrap();

    let saved = runtimes.get(app).await.unwrap().unwrap();
    assert_eq!(saved, locked);
    assert_eq!(saved.version.to_string(), "v0.0.2");
    assert_eq!(saved.installation.state, InstallState::Pending);
    assert_eq!(
        saved.installation.installed_version,
        Some(RuntimeVersion::INITIAL)
    );
    // The other application's runtime did not change.
    assert_eq!(runtimes.get(other).await.unwrap().unwrap(), theirs);
    let mut tx = db.begin().await.unwrap();
    assert!(Runtimes::lock_in(&mut tx, 999_999).await.unwrap().is_none());
}

async fn functions_are_one_per_trigger_and_application(db: Db) {
    let app = application(&db, "o1").await;
    let other = application(&db, "o2").await;
    let functions = Functions::new(db.clone());
    let sent = insert_function(&db, &function(app, FunctionTrigger::UserSentMessage))
        .await
        .unwrap();
    let again = insert_function(&db, &function(app, FunctionTrigger::UserSentMessage)).await;
    assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");
    // Another application may have its own for the same trigger.
    let theirs = insert_function(&db, &function(other, FunctionTrigger::UserSentMessage))
        .await
        .unwrap();
    let start = insert_function(
        &db,
        &NewFunctionRow {
            description: Some("who may start".into()),
            initialize_asynchronously: true,
            ..function(app, FunctionTrigger::UserAttemptedStartSession)
        },
    )
    .await
    .unwrap();

    let f = functions.get(app, start).await.unwrap().unwrap();
    assert_eq!(f.trigger, FunctionTrigger::UserAttemptedStartSession);
    assert_eq!(f.description.as_deref(), Some("who may start"));
    assert!(f.enabled);
    assert!(f.initialize_asynchronously);
    assert_eq!(f.current_version_number, 0);
    assert!(functions.get(app, theirs).await.unwrap().is_none());
    assert!(functions.get(other, sent).await.unwrap().is_none());
    let by = functions
        .by_trigger(app, FunctionTrigger::UserSentMessage)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(by.id, sent);
    assert!(functions
        .by_trigger(app, FunctionTrigger::CallEnded)
        .await
        .unwrap()
        .is_none());

    let (rows, total) = functions.page(app, true, 0, 10).await.unwrap();
    assert_eq!(total, 2);
    assert_eq!(rows.iter().map(|f| f.id).collect::<Vec<_>>(), [sent, start]);
    let (rows, total) = functions.page(app, false, 1, 1).await.unwrap();
    assert_eq!((rows.len(), rows[0].id, total), (1, sent, 2));
}

async fn versions_are_numbered_in_order_under_concurrent_deployments(db: Db) {
    let app = application(&db, "o1").await;
    let other = application(&db, "o2").await;
    let functions = Functions::new(db.clone());
    let f = insert_function(&db, &function(app, FunctionTrigger::UserSentMessage))
        .await
        .unwrap();

    let deploy = |script: String| {
        let db = db.clone();
        async move {
            let mut tx = db.begin().await.unwrap();
            let v = Functions::add_version_in(&mut tx, app, f, &script, 30)
                .await
                .unwrap()
                .unwrap();
            // Hold the transaction a moment, so that the deployments overlap.
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            tx.commit().await.unwrap();
            v
        }
    };
    let (a, b) = tokio::join!(deploy("a".into()), deploy("b".into()));
    let mut numbers = vec![a.version_number, b.version_number];
    numbers.sort_unstable();
    assert_eq!(numbers, [1, 2]);
    let tasks: Vec<_> = (0..4)
        .map(|i| tokio::spawn(deploy(format!("s{i}"))))
        .collect();
    let mut numbers = Vec::new();
    for t in tasks {
        numbers.push(t.await.unwrap().version_number);
    }
    numbers.sort_unstable();
    assert_eq!(numbers, [3, 4, 5, 6]);
    assert_eq!(
        functions
            .get(app, f)
            .await
            .unwrap()
            .unwrap()
            .current_version_number,
        6
    );

    let v1 = if a.version_number == 1 { &a } else { &b };
    assert_eq!(
        functions.version(app, v1.id).await.unwrap().as_ref(),
        Some(v1)
    );
    assert!(functions.version(other, v1.id).await.unwrap().is_none());
    assert_eq!(
        functions
            .version_by_number(app, f, 1)
            .await
            .unwrap()
            .as_ref(),
        Some(v1)
    );
    let (page, total) = functions.versions_page(app, f, false, 0, 2).await.unwrap();
    assert_eq!(total, 6);
    assert_eq!(
        page.iter().map(|v| v.version_number).collect::<Vec<_>>(),
        [6, 5]
    );
    let (page, _) = functions.versions_page(app, f, true, 0, 2).await.unwrap();
    assert_eq!(
        page.iter().map(|v| v.version_number).collect::<Vec<_>>(),
        [1, 2]
    );
    assert_eq!(
        functions
            .versions_page(other, f, true, 0, 2)
            .await
            .unwrap()
            .1,
        0
    );

    // Another application's function takes no version.
    let mut tx = db.begin().await.unwrap();
    assert!(Functions::add_version_in(&mut tx, other, f, "x", 31)
        .await
        .unwrap()
        .is_none());
}

async fn invocations_end_once_and_page_newest_first(db: Db) {
    let app = application(&db, "o1").await;
    let other = application(&db, "o2").await;
    let f = insert_function(&db, &function(app, FunctionTrigger::UserSentMessage))
        .await
        .unwrap();
    let invocations = Invocations::new(db.clone());
    let start = |n: i64| NewInvocation {
        application_id: app,
        function_id: f,
        version_number: 1,
        args: json!({"n": n}),
        created: 100 + n,
    };
    let first = invocations.start(&start(1)).await.unwrap();
    assert_eq!(first.status, InvocationStatus::Running);
    assert_eq!(first.result, json!({}));
    assert_eq!(first.args, json!({"n": 1}));
    assert_eq!(first.ended, None);
    let second = invocations.start(&start(2)).await.unwrap();

    let ok = InvocationEnd {
        status: InvocationStatus::Succeeded,
        result: json!({"payload": [1]}),
        error: None,
        output: Some("hello\n".into()),
        ended: 200,
    };
    assert!(!invocations.finish(other, first.id, &ok).await.unwrap());
    assert!(invocations.finish(app, first.id, &ok).await.unwrap());
    let failed = InvocationEnd {
        status: InvocationStatus::Failed,
        result: json!({}),
        error: Some("boom".into()),
        output: None,
        ended: 201,
    };
    assert!(
        !invocations.finish(app, first.id, &failed).await.unwrap(),
        "an invocation ends once"
    );
    assert!(invocations.finish(app, second.id, &failed).await.unwrap());

    let done = invocations.get(app, first.id).await.unwrap().unwrap();
    assert_eq!(done.status, InvocationStatus::Succeeded);
    assert_eq!(done.result, json!({"payload": [1]}));
    assert_eq!(done.output.as_deref(), Some("hello\n"));
    assert_eq!(done.ended, Some(200));
    assert!(invocations.get(other, first.id).await.unwrap().is_none());

    let (page, total) = invocations.page(app, f, false, 0, 10).await.unwrap();
    assert_eq!(total, 2);
    assert_eq!(
        page.iter().map(|i| i.id).collect::<Vec<_>>(),
        [second.id, first.id]
    );
    assert_eq!(page[0].error.as_deref(), Some("boom"));
    assert_eq!(page[0].status, InvocationStatus::Failed);
    let (page, _) = invocations.page(app, f, true, 1, 10).await.unwrap();
    assert_eq!(page.iter().map(|i| i.id).collect::<Vec<_>>(), [second.id]);
    assert_eq!(invocations.page(other, f, false, 0, 10).await.unwrap().1, 0);
}
