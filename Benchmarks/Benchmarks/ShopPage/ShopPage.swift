public import VeneerCore
public import VeneerHTML

/// A shop home page shaped like a real one (head with scripts and JSON-LD, header navigation, a
/// hero, product cards with inline SVG icons, footer), grown to the wanted size with more cards.
public enum ShopPage {
    public static func changes(_ objects: [JSONValue]) -> [RenderedChange] {
        objects.map { try! PageChange(json: $0).rendered(TemplateContext(), templates: [:]) }
    }

    public static func make(bytes target: Int) -> [UInt8] {
        var page = """
            <!DOCTYPE html>
            <html lang="en" class="no-js">
            <head>
            <meta charset="UTF-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>Northwind Outfitters &mdash; Outdoor gear</title>
            <link rel="stylesheet" href="/assets/app.css?v=3f9a2c">
            <script>document.documentElement.className = document.documentElement.className.replace('no-js','js');</script>
            <script type="application/ld+json">{"@context":"https://schema.org","@type":"Organization","name":"Northwind","url":"https://example.com"}</script>
            <style>.product-card{display:grid}.price--sale{color:#c00}</style>
            </head>
            <body class="home">
            <div id="announcement" class="announcement-bar"><p>Free returns within 30&nbsp;days &middot; <a href="/shipping">Details</a></p></div>
            <header class="site-header">
              <a href="/" class="logo"><img src="/img/logo.svg" width="120" height="32" alt="Northwind"></a>
              <nav class="primary-nav"><ul>
                <li class="menu-item current"><a href="/">Home</a>
                <li class="menu-item"><a href="/c/men">Men</a>
                <li class="menu-item"><a href="/c/women">Women</a>
                <li class="menu-item"><a href="/sale">Sale</a>
              </ul></nav>
              <form class="search" action="/search"><input type="search" name="q" placeholder="Search&hellip;"><button type=submit>Go</button></form>
              <a id="cart-link" href="/cart" class="cart-link">Cart (<span class="cart-count">0</span>)</a>
            </header>
            <main id="main">
              <section id="hero" class="hero" style="background-image:url('/img/hero.jpg')">
                <h1>Gear up for winter</h1><p>Insulated jackets, waterproof boots &amp; more.</p>
                <a href="/c/winter" class="btn cta">Shop winter</a>
              </section>
              <section class="featured"><h2>Featured products</h2>
            """
        var index = 0
        let footer = """
              </section>
            </main>
            <footer class="site-footer"><p>&copy; 2026 Northwind Outfitters.</p><!-- build 2026.11.25 --></footer>
            <script src="/assets/app.js?v=3f9a2c" defer></script>
            </body>
            </html>

            """
        while page.utf8.count + footer.utf8.count < target {
            if index % 12 == 0 {
                page += index == 0 ? "<div class=\"product-grid\">\n" : "</div>\n<div class=\"product-grid\">\n"
            }
            page += """
                  <div class="product-card" data-product-id="\(1000 + index)">
                    <a href="/p/\(1000 + index)" class="product-link"><img src="/img/p/\(1000 + index).jpg" alt="Product \(index)" loading="lazy" width="300" height="300"></a>
                    <h3 class="product-title"><a href="/p/\(1000 + index)">Trail product no. \(index)</a></h3>
                    <div class="rating" aria-label="4.5 out of 5"><svg class="icon star" viewBox="0 0 24 24" width="16" height="16"><path d="M12 2l3 7h7l-6 4 2 7-6-4-6 4 2-7-6-4h7z"/></svg> 4.5 (\(index * 7 % 300))</div>
                    <span class="price">$\(49 + index % 200).00</span>
                    <button class="btn add" data-id=\(1000 + index) onclick="addToCart(\(1000 + index))">Add to cart</button>
                  </div>

                """
            index += 1
        }
        page += "</div>\n" + footer
        return Array(page.utf8)
    }
}

extension ShopPage {
    /// The benchmark's three changes: an id early in the page, a class pair that recurs through
    /// it (every grid's second card), a class early in the page.
    public static let spreadChanges = changes([
        [
            "selector": "#hero", "action": "replace",
            "html": "<section id=\"hero\"><h1>Welcome back, Ada</h1></section>",
        ],
        ["selector": ".product-card:nth-child(2) .price", "action": "add-class", "value": "price--sale"],
        ["selector": ".cta", "action": "add-class", "value": "cta--green"],
    ])

    /// Three id changes whose targets all sit in the first 2 KB of the page.
    public static let earlyChanges = changes([
        [
            "selector": "#hero", "action": "replace",
            "html": "<section id=\"hero\"><h1>Welcome back, Ada</h1></section>",
        ],
        ["selector": "#announcement", "action": "text", "text": "Free shipping for you"],
        ["selector": "#cart-link", "action": "add-class", "value": "cart--full"],
    ])

    /// A selector whose id is nowhere in the page (the byte pre-check answers).
    public static let absentChanges = changes([["selector": "#not-on-this-page", "action": "remove"]])
}
