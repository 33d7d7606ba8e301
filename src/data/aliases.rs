//! The column names each field goes by in the exports planners meet (a
//! shop's orders, a grocery chain's sales, an ERP's monthly figures), for
//! `mapping` to find a file's columns by.

use crate::data::mapping::{Field, FileKind};

impl Field {
    /// Column names (normalised: lower case, letters and digits only) that
    /// mean this field in exports planners meet. The field's own name comes
    /// first. `kind` matters where one word means different things: `id` is
    /// the order number in an orders file and the vehicle in a fleet file.
    pub fn aliases(self, kind: FileKind) -> &'static [&'static str] {
        match self {
            Field::Date => &[
                "date",
                "day",
                "invoicedate",
                "orderdate",
                "salesdate",
                "saledate",
                "timestamp",
                "datetime",
                "time",
                "ds",
                "deliverydate",
            ],
            Field::Sku => &[
                "sku",
                "item",
                "itemid",
                "product",
                "productid",
                "stockcode",
                "article",
                "itemcode",
                "productcode",
                "skuid",
                "itemnbr",
            ],
            Field::Warehouse => match kind {
                FileKind::Fleet => &["warehouse", "depot", "store", "location", "warehouseid", "base"],
                _ => &[
                    "warehouse",
                    "store",
                    "location",
                    "warehouseid",
                    "storeid",
                    "site",
                    "dc",
                    "depot",
                    "shop",
                    "locationid",
                    "locationcode",
                    "storenbr",
                ],
            },
            Field::Quantity => &[
                "quantity",
                "qty",
                "sales",
                "weeklysales",
                "monthlysales",
                "netsales",
                "units",
                "unitssold",
                "unitsales",
                "salesqty",
                "salesquantity",
                "qtysold",
                "quantitysold",
                "demand",
                "sold",
                "volume",
                "amount",
                // Strong, unlike the other new names: beside `sales` (a
                // sample sales data set's revenue) which is the demand must
                // be asked, not guessed.
                "quantityordered",
                "qtyordered",
                "orderedquantity",
                "quantitypurchased",
            ],
            Field::Price => &[
                "price",
                "unitprice",
                "sellingprice",
                "salesprice",
                "listprice",
                "sellprice",
            ],
            Field::Promo => &["promo", "promotion", "onpromotion", "promoflag", "onpromo"],
            Field::Invoice => &[
                "invoice",
                "invoiceno",
                "invoicenumber",
                "invoiceid",
                "orderno",
                "ordernumber",
            ],
            Field::Description => &["description", "desc", "productname", "itemname"],
            Field::Customer => &["customer", "customerid", "client", "customername"],
            Field::Country => &["country", "countrycode"],
            Field::Title => &["title", "description", "name", "productname", "itemname", "desc"],
            Field::Category => &["category", "productcategory", "department", "group", "family"],
            Field::Brand => &["brand", "manufacturer", "make"],
            Field::UnitCost => &["unitcost", "cost", "purchaseprice", "costprice", "buyprice"],
            Field::PackSize => &["packsize", "pack", "casesize", "casepack", "packqty", "innerpack"],
            Field::Moq => &["moq", "minorderqty", "minimumorderquantity", "minorder", "minqty"],
            Field::LeadTime => &["leadtimedays", "leadtime", "leaddays", "leadtimed"],
            Field::Supplier => &["supplier", "vendor", "supplierid", "vendorid"],
            Field::OnHand => &[
                "onhand",
                "stock",
                "stockonhand",
                "qtyonhand",
                "quantityonhand",
                "available",
                "inventory",
            ],
            Field::OnOrder => &["onorder", "qtyonorder", "openorder", "inbound", "intransit"],
            Field::DueDate => &["duedate", "due", "eta", "arrival", "arrivaldate", "expected"],
            Field::LaunchDate => &[
                "launchdate",
                "launch",
                "releasedate",
                "release",
                "availablefrom",
                "onsale",
            ],
            Field::Id => match kind {
                FileKind::Orders => &["id", "order", "orderid", "orderno", "ordernumber"],
                FileKind::Fleet => &["id", "vehicle", "vehicleid", "truck", "van"],
                _ => &[
                    "id",
                    "warehouse",
                    "warehouseid",
                    "code",
                    "store",
                    "storeid",
                    "storenbr",
                    "location",
                ],
            },
            Field::Name => &["name", "warehousename", "storename"],
            Field::Lat => &["lat", "latitude"],
            Field::Lon => &["lon", "lng", "long", "longitude"],
            Field::X => &["x", "xcoord", "xcoordinate"],
            Field::Y => &["y", "ycoord", "ycoordinate"],
            Field::Ready => &["ready", "readytime", "earliest", "twstart", "windowstart", "from"],
            Field::Due => &["due", "duetime", "latest", "twend", "windowend", "to"],
            Field::Service => &["servicemin", "service", "servicetime", "serviceminutes"],
            Field::Capacity => &["capacity", "cap", "maxload"],
            Field::ShiftStart => &["shiftstart", "start", "starttime"],
            Field::ShiftEnd => &["shiftend", "end", "endtime"],
            Field::Speed => &["speedkmh", "speed", "kmh"],
            Field::CostPerKm => &["costperkm", "costkm", "kmcost"],
            // `event_name_1`, `event_type_1`: M5's calendar.
            Field::Event => &[
                "event",
                "eventname",
                "name",
                "holidayname",
                "description",
                "title",
                "eventname1",
            ],
            Field::Flag => &[
                "flag",
                "isholiday",
                "holiday",
                "ismarkdown",
                "markdown",
                "markdownweek",
                "eventtype",
                "eventtype1",
                "type",
                "kind",
            ],
        }
    }

    /// Names read as this field only where no column has one of its
    /// [`aliases`](Field::aliases), and never said to clash with another
    /// column: a `month` beside a `date` is a calendar column, a
    /// `variant_sku` beside a `product_id` a second code. A file that
    /// imported before these were known reads as it did.
    pub fn weak_aliases(self) -> &'static [&'static str] {
        match self {
            Field::Date => &[
                "purchasedate",
                "transactiondate",
                "week",
                "weekstart",
                "weekstarting",
                "weekbeginning",
                "weekending",
                "month",
            ],
            Field::Sku => &[
                "variantsku",
                "productsku",
                "itemsku",
                "sellersku",
                "partnumber",
                "partno",
                "articlenumber",
                "articleno",
            ],
            _ => &[],
        }
    }
}
