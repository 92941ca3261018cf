//! The embedded web assets: the Chinese web font ships with the binary.

use reqwest::StatusCode;

db_test!(
    the_chinese_web_font_is_served_with_every_subset_it_names,
    |app| {
        let css = app.get("/assets/vendor/noto-sans-sc/font.css", None).await;
        assert_eq!(css.status(), StatusCode::OK);
        let css = css.text().await.unwrap();
        let files: Vec<&str> = css
            .split("url(./files/")
            .skip(1)
            .map(|rest| &rest[..rest.find(')').unwrap()])
            .collect();
        // Two weights of about a hundred subsets each, woff2 only.
        assert!(files.len() > 150, "{}", files.len());
        assert!(!css.contains(".woff)"), "no woff fallback is shipped");
        assert!(css.contains("font-weight: 400;") && css.contains("font-weight: 700;"));
        // The first and the last subset named are served, as fonts.
        for f in [files[0], files[files.len() - 1]] {
            let r = app
                .get(&format!("/assets/vendor/noto-sans-sc/files/{f}"), None)
                .await;
            assert_eq!(r.status(), StatusCode::OK, "{f}");
            assert_eq!(r.headers()["content-type"], "font/woff2");
            assert_eq!(&r.bytes().await.unwrap()[..4], b"wOF2");
        }
        let page = app.get("/console", None).await.text().await.unwrap();
        assert!(page.contains("/assets/vendor/noto-sans-sc/font.css"));
    }
);
